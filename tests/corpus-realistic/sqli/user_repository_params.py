# case: safe CWE-89
# The same repository, with placeholders for values and column names from a fixed list.
import sqlite3

from flask import Flask, g, jsonify, request

app = Flask(__name__)
FILTERABLE = ("team", "country")


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect("/srv/app/users.db")
    return g.db


class UserRepository:
    def __init__(self, conn):
        self.conn = conn

    def find(self, filters):
        clauses, params = [], []
        for column in FILTERABLE:
            if column in filters:
                clauses.append(column + " = ?")
                params.append(filters[column])
        sql = "SELECT id, name, email FROM users"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        return self.conn.execute(sql, params).fetchall()


@app.get("/users")
def list_users():
    filters = {"team": request.args.get("team", "core")}
    rows = UserRepository(get_db()).find(filters)
    return jsonify([dict(zip(("id", "name", "email"), r)) for r in rows])
