# case: vulnerable CWE-1004
# The auth token cookie is Secure but readable by page scripts (httponly=False).
from flask import Flask, jsonify, request

app = Flask(__name__)


class TokenIssuer:
    cookie_name = "auth_token"

    def attach(self, response, token):
        response.set_cookie(self.cookie_name, token, secure=True, httponly=False, samesite="Strict")
        return response


@app.post("/api/session")
def create_session():
    token = request.headers.get("X-Upstream-Token", "")
    return TokenIssuer().attach(jsonify(ok=True), token)
