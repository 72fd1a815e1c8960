# case: safe CWE-95
# The client sends numbers; the formula is chosen from the server's own table by name.
from flask import Flask, jsonify, request

app = Flask(__name__)

FORMULAS = {
    "standard": "base * qty",
    "bulk": "base * qty * 0.9",
}


def evaluate_formula(expression, variables):
    return eval(expression, {"__builtins__": {}}, variables)


@app.route("/quote", methods=["POST"])
def quote():
    payload = request.get_json()
    formula = FORMULAS["bulk"] if payload.get("qty", 1) > 100 else FORMULAS["standard"]
    price = evaluate_formula(formula, {"base": 9.5, "qty": float(payload.get("qty", 1))})
    return jsonify(price=price)
