# case: safe CWE-601
# Partner redirects look the destination up in a fixed table keyed by the user's choice.
from flask import Flask, abort, redirect, request

app = Flask(__name__)
PARTNERS = {
    "docs": "https://docs.example.com/",
    "status": "https://status.example.com/",
}


def partner_url(key):
    url = PARTNERS.get(key)
    if url is None:
        abort(404)
    return url


@app.get("/go")
def go():
    return redirect(partner_url(request.args.get("to", "docs")))
