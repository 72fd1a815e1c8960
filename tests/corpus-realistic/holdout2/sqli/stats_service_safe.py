# case: safe CWE-89
# The table name is validated against the known tables in the subclass before the base formats it.
import sqlite3

from flask import Flask, abort, jsonify, request

app = Flask(__name__)
TABLES = frozenset({"orders", "users", "invoices"})


class BaseStats:
    def __init__(self, db_path):
        self.db = sqlite3.connect(db_path)

    def count(self, table, since):
        query = "SELECT COUNT(*) FROM {} WHERE created >= ?".format(table)
        return self.db.execute(query, (since,)).fetchone()[0]


class SiteStats(BaseStats):
    def summary(self, table, since):
        if table not in TABLES:
            abort(400)
        return {"table": table, "rows": self.count(table, since)}


@app.get("/stats")
def stats():
    service = SiteStats("/srv/app/site.db")
    return jsonify(service.summary(request.args.get("table", "orders"), request.args.get("since", "2024-01-01")))
