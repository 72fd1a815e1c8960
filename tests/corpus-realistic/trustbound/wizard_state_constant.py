# case: safe CWE-501
# The wizard stores only the step counter, computed server-side, in the session.
from flask import Flask, redirect, request, session

app = Flask(__name__)
LAST_STEP = 3


def next_step(current):
    return min(current + 1, LAST_STEP)


@app.post("/signup/<int:step>")
def signup_step(step):
    email = request.form.get("email", "")
    session["wizard_step"] = next_step(1 if not email else 2)
    return redirect("/signup/%d" % session["wizard_step"])
