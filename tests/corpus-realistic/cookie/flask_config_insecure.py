# case: vulnerable CWE-1004
# Flask app factory that disables HttpOnly on the session cookie through config.update.
from flask import Flask


def create_app():
    app = Flask(__name__)
    app.config.update(
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    return app
