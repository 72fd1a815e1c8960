# case: vulnerable CWE-95
# A table widget sorts rows by a key expression passed in the query string.
from flask import Flask, jsonify, request

app = Flask(__name__)
ROWS = [{"name": "b", "size": 3}, {"name": "a", "size": 5}]


class TableView:
    def __init__(self, rows):
        self.rows = rows

    def sorted_by(self, key_expr):
        key = eval("lambda r: " + key_expr)
        return sorted(self.rows, key=key)


@app.get("/table")
def table():
    return jsonify(TableView(ROWS).sorted_by(request.args.get("key", "r['name']")))
