# case: vulnerable CWE-328
# Webhook signatures are checked with SHA-1 of secret + body (weak hash, no HMAC).
import hashlib

from flask import Flask, abort, request

app = Flask(__name__)
SHARED_SECRET = b"configured-elsewhere"


def signature(body):
    h = hashlib.sha1()
    h.update(SHARED_SECRET)
    h.update(body)
    return h.hexdigest()


@app.post("/hooks/partner")
def partner_hook():
    if request.headers.get("X-Signature") != signature(request.get_data()):
        abort(401)
    return "", 204
