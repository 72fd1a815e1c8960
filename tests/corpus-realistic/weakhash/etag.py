# case: safe CWE-328
# An ETag for a static response is an MD5 of the body, marked as not for security.
import hashlib

from flask import Flask, make_response

app = Flask(__name__)
BODY = b"<html><body>static page</body></html>"


def etag_for(content):
    return hashlib.md5(content, usedforsecurity=False).hexdigest()


@app.get("/static-page")
def static_page():
    resp = make_response(BODY)
    resp.set_etag(etag_for(BODY))
    return resp
