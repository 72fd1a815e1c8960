# case: vulnerable CWE-89
# An audit logger stores the user agent with string building in a helper class.
import psycopg2
from flask import Flask, request

app = Flask(__name__)


class AuditLog:
    table = "audit_events"

    def __init__(self, dsn):
        self.conn = psycopg2.connect(dsn)

    def record(self, action, agent):
        statement = "INSERT INTO " + self.table + " (action, agent) VALUES ('" + action + "', '"
        statement += agent + "')"
        with self.conn.cursor() as cur:
            cur.execute(statement)
        self.conn.commit()


audit = AuditLog("dbname=app")


@app.post("/login")
def login():
    audit.record("login", request.headers.get("User-Agent", "-"))
    return {"ok": True}
