# case: safe CWE-328
# Same links signed with HMAC-SHA256.
import hashlib
import hmac

from flask import Flask, abort, request

app = Flask(__name__)
LINK_SECRET = b"set-from-environment"


def link_signature(path):
    return hmac.new(LINK_SECRET, path.encode(), hashlib.sha256).hexdigest()


@app.get("/dl/<path:path>")
def download(path):
    if not hmac.compare_digest(request.args.get("sig", ""), link_signature(path)):
        abort(403)
    return {"path": path}
