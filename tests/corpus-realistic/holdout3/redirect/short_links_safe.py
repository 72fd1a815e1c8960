# case: safe CWE-601
# The follow endpoint only redirects to hosts on the company allow-list.
from urllib.parse import urlparse

from flask import Flask, abort, redirect, request

app = Flask(__name__)
ALLOWED_HOSTS = {"example.com", "docs.example.com"}


@app.get("/l")
def follow():
    target = request.args.get("u", "")
    if urlparse(target).hostname not in ALLOWED_HOSTS:
        abort(400)
    return redirect(target, code=301)
