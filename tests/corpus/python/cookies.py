"""Cookie flag samples."""
from flask import Flask, make_response

app = Flask(__name__)
# ruleid: py-insecure-session-cookie-setting
app.config["SESSION_COOKIE_SECURE"] = False
SECURE_COOKIES = True


@app.route("/login")
def login():
    resp = make_response("ok")
    # ruleid: py-cookie-without-secure, py-session-cookie-without-httponly
    resp.set_cookie("session_id", "abc")
    # ruleid: py-cookie-secure-false
    resp.set_cookie("theme", "dark", secure=False)
    # ok: py-cookie-without-secure, py-session-cookie-without-httponly, py-cookie-secure-false
    resp.set_cookie("auth_token", "abc", secure=True, httponly=True, samesite="Lax")
    # ok: py-cookie-without-secure
    resp.set_cookie("lang", "en", secure=SECURE_COOKIES)
    # ruleid: py-session-cookie-without-httponly
    resp.set_cookie(key="remember_me", value="1", secure=True)
    return resp
