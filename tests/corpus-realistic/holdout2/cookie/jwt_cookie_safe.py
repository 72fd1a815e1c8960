# case: safe CWE-1004
# Same login with HttpOnly on.
from flask import Flask, jsonify

app = Flask(__name__)


def issue_jwt(user_id):
    return "header.%d.signature" % user_id


@app.post("/api/login")
def api_login():
    resp = jsonify(ok=True)
    resp.set_cookie("jwt", issue_jwt(42), secure=True, httponly=True, samesite="Strict")
    return resp
