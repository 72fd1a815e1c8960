# case: safe CWE-601
# The return path is checked to be relative and on this site in a helper module-level function.
from urllib.parse import urlsplit

from flask import Flask, redirect, request

app = Flask(__name__)


def is_local(url):
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and url.startswith("/")


@app.get("/sso/callback")
def sso_callback():
    return_to = request.args.get("return_to") or "/"
    if not is_local(return_to):
        return_to = "/"
    return redirect(return_to)
