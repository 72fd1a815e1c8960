# case: safe CWE-501
# The total is computed on the server from the cart's prices.
from flask import Flask, request, session

app = Flask(__name__)
PRICES = {"sku-1": 9.5, "sku-2": 20.0}


class Checkout:
    def __init__(self, store):
        self.store = store

    def begin(self, total):
        self.store["checkout"] = {"total": total, "currency": "EUR"}


@app.post("/checkout")
def begin_checkout():
    items = request.json.get("items", [])
    total = sum(PRICES.get(sku, 0.0) for sku in items)
    Checkout(session).begin(total)
    return {"ok": True}
