# case: vulnerable CWE-601
# Partner redirects that fall back to the raw parameter when the key is unknown.
from flask import Flask, redirect, request

app = Flask(__name__)
PARTNERS = {
    "docs": "https://docs.example.com/",
    "status": "https://status.example.com/",
}


def partner_url(key):
    return PARTNERS.get(key, key)


@app.get("/go")
def go():
    return redirect(partner_url(request.args.get("to", "docs")))
