# case: safe CWE-1004
# A UI preference cookie (theme) that scripts need to read; it is Secure and holds no secret.
from flask import Flask, make_response, request

app = Flask(__name__)


@app.post("/preferences/theme")
def set_theme():
    theme = "dark" if request.form.get("theme") == "dark" else "light"
    resp = make_response("", 204)
    resp.set_cookie("theme", theme, secure=True, httponly=False, samesite="Lax", max_age=31536000)
    return resp
