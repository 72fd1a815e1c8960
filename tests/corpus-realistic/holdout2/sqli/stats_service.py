# case: vulnerable CWE-89
# A stats service picks the table from the query string and interpolates it in a base class.
import sqlite3

from flask import Flask, jsonify, request

app = Flask(__name__)


class BaseStats:
    def __init__(self, db_path):
        self.db = sqlite3.connect(db_path)

    def count(self, table, since):
        query = "SELECT COUNT(*) FROM {} WHERE created >= ?".format(table)
        return self.db.execute(query, (since,)).fetchone()[0]


class SiteStats(BaseStats):
    def summary(self, table, since):
        return {"table": table, "rows": self.count(table, since)}


@app.get("/stats")
def stats():
    service = SiteStats("/srv/app/site.db")
    return jsonify(service.summary(request.args.get("table", "orders"), request.args.get("since", "2024-01-01")))
