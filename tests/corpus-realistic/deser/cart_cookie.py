# case: vulnerable CWE-502
# The cart is kept client-side as a base64 pickle in a cookie and restored by a helper.
import base64
import pickle

from flask import Flask, request

app = Flask(__name__)


def restore_cart(blob):
    if not blob:
        return []
    return pickle.loads(base64.b64decode(blob))


@app.get("/cart")
def cart():
    items = restore_cart(request.cookies.get("cart", ""))
    return {"items": items}
