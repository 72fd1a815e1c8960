# case: vulnerable CWE-601
# After login the user is sent to "next", read by a helper that only supplies a default.
from flask import Flask, redirect, request, session

app = Flask(__name__)


def next_url(default="/dashboard"):
    return request.args.get("next") or default


@app.post("/login")
def login():
    session["user"] = "alice"
    return redirect(next_url())
