# case: safe CWE-502
# Same cookie cart, stored as JSON.
import base64
import json

from flask import Flask, request

app = Flask(__name__)


def restore_cart(blob):
    if not blob:
        return []
    return json.loads(base64.b64decode(blob))


@app.get("/cart")
def cart():
    items = restore_cart(request.cookies.get("cart", ""))
    return {"items": items}
