# case: safe CWE-95
# Same report, but the comparison is taken from the operator module through an allow-list.
import operator

from flask import Flask, abort, request

app = Flask(__name__)
ROWS = [{"region": "eu", "total": 10}, {"region": "us", "total": 30}]
OPERATORS = {">": operator.gt, "<": operator.lt, "=": operator.eq}


def make_predicate(field, op, value):
    compare = OPERATORS.get(op)
    if compare is None or field not in ("region", "total"):
        abort(400)
    return lambda row: compare(row[field], value)


@app.get("/report")
def report():
    params = dict(request.args)
    limit = float(params.get("v", "0"))
    pred = make_predicate(params.get("field", "total"), params.get("op", ">"), limit)
    return {"rows": [r for r in ROWS if pred(r)]}
