# case: safe CWE-330
# random is used to shuffle quiz questions for display; nothing secret depends on it.
import random

from flask import Flask, render_template

app = Flask(__name__)
QUESTIONS = ["capital of France", "2 + 2", "largest ocean", "author of Hamlet"]


def quiz_order(seed=None):
    order = list(QUESTIONS)
    random.Random(seed).shuffle(order)
    return order


@app.get("/quiz")
def quiz():
    return render_template("quiz.html", questions=quiz_order())
