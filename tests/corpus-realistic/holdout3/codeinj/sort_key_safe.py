# case: safe CWE-95
# Same widget; the sort column is a plain field name checked against the row keys.
from operator import itemgetter

from flask import Flask, abort, jsonify, request

app = Flask(__name__)
ROWS = [{"name": "b", "size": 3}, {"name": "a", "size": 5}]
SORTABLE = ("name", "size")


class TableView:
    def __init__(self, rows):
        self.rows = rows

    def sorted_by(self, column):
        if column not in SORTABLE:
            abort(400)
        return sorted(self.rows, key=itemgetter(column))


@app.get("/table")
def table():
    return jsonify(TableView(ROWS).sorted_by(request.args.get("key", "name")))
