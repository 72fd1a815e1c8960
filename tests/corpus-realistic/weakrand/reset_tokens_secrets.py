# case: safe CWE-330
# Same flow using the secrets module.
import secrets

from flask import Flask, request

app = Flask(__name__)
RESETS = {}


def make_code(nbytes=24):
    return secrets.token_urlsafe(nbytes)


@app.post("/password/forgot")
def forgot():
    email = request.form["email"]
    RESETS[make_code()] = email
    return "", 202
