# case: vulnerable CWE-89
# A repository class builds its WHERE clause from a filter dict handed over by the view.
import sqlite3

from flask import Flask, g, jsonify, request

app = Flask(__name__)


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect("/srv/app/users.db")
    return g.db


class UserRepository:
    def __init__(self, conn):
        self.conn = conn

    def find(self, filters):
        clauses = []
        for column, value in filters.items():
            clauses.append("%s = '%s'" % (column, value))
        sql = "SELECT id, name, email FROM users"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        return self.conn.execute(sql).fetchall()


@app.get("/users")
def list_users():
    filters = {"team": request.args.get("team", "core")}
    rows = UserRepository(get_db()).find(filters)
    return jsonify([dict(zip(("id", "name", "email"), r)) for r in rows])
