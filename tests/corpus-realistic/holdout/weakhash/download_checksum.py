# case: vulnerable CWE-328
# Download links are signed with md5(secret + path) to stop tampering.
import hashlib

from flask import Flask, abort, request

app = Flask(__name__)
LINK_SECRET = "set-from-environment"


def link_signature(path):
    return hashlib.md5((LINK_SECRET + path).encode()).hexdigest()


@app.get("/dl/<path:path>")
def download(path):
    if request.args.get("sig") != link_signature(path):
        abort(403)
    return {"path": path}
