# case: safe CWE-601
# Same login; a helper keeps only relative paths on this site.
from urllib.parse import urlparse

from flask import Flask, redirect, request, session

app = Flask(__name__)


def next_url(default="/dashboard"):
    target = request.args.get("next") or default
    parts = urlparse(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@app.post("/login")
def login():
    session["user"] = "alice"
    return redirect(next_url())
