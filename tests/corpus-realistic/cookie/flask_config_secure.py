# case: safe CWE-1004
# The same factory with HttpOnly left on.
from flask import Flask


def create_app():
    app = Flask(__name__)
    app.config.update(
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    return app
