# case: vulnerable CWE-95
# A pricing calculator evaluates the formula the client sends, through a small helper.
from flask import Flask, jsonify, request

app = Flask(__name__)


def evaluate_formula(expression, variables):
    return eval(expression, {"__builtins__": {}}, variables)


@app.route("/quote", methods=["POST"])
def quote():
    payload = request.get_json()
    formula = payload.get("formula", "base * qty")
    price = evaluate_formula(formula, {"base": 9.5, "qty": payload.get("qty", 1)})
    return jsonify(price=price)
