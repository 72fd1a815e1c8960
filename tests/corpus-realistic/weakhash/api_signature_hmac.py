# case: safe CWE-328
# Same webhook with HMAC-SHA256 and a constant-time compare.
import hashlib
import hmac

from flask import Flask, abort, request

app = Flask(__name__)
SHARED_SECRET = b"configured-elsewhere"


def signature(body):
    return hmac.new(SHARED_SECRET, body, hashlib.sha256).hexdigest()


@app.post("/hooks/partner")
def partner_hook():
    if not hmac.compare_digest(request.headers.get("X-Signature", ""), signature(request.get_data())):
        abort(401)
    return "", 204
