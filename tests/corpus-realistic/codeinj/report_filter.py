# case: vulnerable CWE-95
# Report rows are filtered by a lambda body assembled from the query string.
from flask import Flask, request

app = Flask(__name__)
ROWS = [{"region": "eu", "total": 10}, {"region": "us", "total": 30}]


def make_predicate(field, op, value):
    source = "lambda row: row[%r] %s %s" % (field, op, value)
    return eval(source)


@app.get("/report")
def report():
    params = dict(request.args)
    pred = make_predicate(params.get("field", "total"), params.get("op", ">"), params.get("v", "0"))
    return {"rows": [r for r in ROWS if pred(r)]}
