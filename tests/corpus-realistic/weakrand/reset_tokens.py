# case: vulnerable CWE-330
# Password reset tokens are made by a helper from random.choice over letters and digits.
import random
import string

from flask import Flask, request

app = Flask(__name__)
RESETS = {}


def make_code(length=24):
    alphabet = string.ascii_letters + string.digits
    return "".join(random.choice(alphabet) for _ in range(length))


@app.post("/password/forgot")
def forgot():
    email = request.form["email"]
    RESETS[make_code()] = email
    return "", 202
