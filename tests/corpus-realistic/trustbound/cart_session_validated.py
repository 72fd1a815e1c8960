# case: safe CWE-501
# The discount code is only stored after it is matched against the server's active codes.
from flask import Flask, abort, request, session

app = Flask(__name__)
ACTIVE_CODES = {"SPRING10", "WELCOME5"}


def validated_code(raw):
    code = raw.strip().upper()
    if code not in ACTIVE_CODES:
        abort(400)
    return code


class Cart:
    def __init__(self, store):
        self.store = store

    def apply_discount(self, code):
        self.store["discount_code"] = code


@app.post("/cart/discount")
def discount():
    Cart(session).apply_discount(validated_code(request.form.get("code", "")))
    return {"ok": True}
