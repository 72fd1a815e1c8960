# case: safe CWE-614
# Same helper with Secure, HttpOnly and SameSite set.
import secrets

from flask import Flask, make_response, redirect

app = Flask(__name__)


def remember(response, token, days=30):
    response.set_cookie(
        "remember_token",
        token,
        max_age=days * 86400,
        secure=True,
        httponly=True,
        samesite="Lax",
    )
    return response


@app.post("/login")
def login():
    resp = make_response(redirect("/"))
    return remember(resp, secrets.token_urlsafe(32))
