# case: vulnerable CWE-601
# OAuth callback: the return URL travels in a list of state values split from a query field.
from flask import Flask, redirect, request

app = Flask(__name__)


def decode_state(raw):
    nonce, _, return_to = raw.partition("|")
    return [nonce, return_to]


@app.get("/oauth/callback")
def oauth_callback():
    state = decode_state(request.args.get("state", ""))
    destination = state[1] or "/"
    return redirect(destination, code=302)
