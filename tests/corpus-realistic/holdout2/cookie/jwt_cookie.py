# case: vulnerable CWE-1004
# The JWT is stored in a cookie readable by JavaScript (httponly left at its default).
from flask import Flask, jsonify

app = Flask(__name__)


def issue_jwt(user_id):
    return "header.%d.signature" % user_id


@app.post("/api/login")
def api_login():
    resp = jsonify(ok=True)
    resp.set_cookie("jwt", issue_jwt(42), secure=True, samesite="Strict")
    return resp
