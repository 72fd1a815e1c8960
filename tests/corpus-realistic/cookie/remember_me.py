# case: vulnerable CWE-614
# "Remember me" stores a login token in a cookie set by a helper without the Secure flag.
import secrets

from flask import Flask, make_response, redirect

app = Flask(__name__)


def remember(response, token, days=30):
    response.set_cookie("remember_token", token, max_age=days * 86400, httponly=True)
    return response


@app.post("/login")
def login():
    resp = make_response(redirect("/"))
    return remember(resp, secrets.token_urlsafe(32))
