# case: vulnerable CWE-501
# The checkout keeps the client-computed total in the session and charges it later.
from flask import Flask, request, session

app = Flask(__name__)


class Checkout:
    def __init__(self, store):
        self.store = store

    def begin(self, total):
        self.store["checkout"] = {"total": total, "currency": "EUR"}


@app.post("/checkout")
def begin_checkout():
    Checkout(session).begin(request.json.get("total"))
    return {"ok": True}
