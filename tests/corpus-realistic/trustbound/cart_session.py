# case: vulnerable CWE-501
# The cart's discount code from the form is stored in the session by a helper class.
from flask import Flask, request, session

app = Flask(__name__)


class Cart:
    def __init__(self, store):
        self.store = store

    def apply_discount(self, code):
        self.store["discount_code"] = code


@app.post("/cart/discount")
def discount():
    Cart(session).apply_discount(request.form.get("code", ""))
    return {"ok": True}
