# case: safe CWE-89
# The audit logger's string-built statement only ever receives constants from the code.
import psycopg2
from flask import Flask, request

app = Flask(__name__)


class AuditLog:
    table = "audit_events"

    def __init__(self, dsn):
        self.conn = psycopg2.connect(dsn)

    def record(self, action, source):
        statement = "INSERT INTO " + self.table + " (action, source) VALUES ('" + action + "', '"
        statement += source + "')"
        with self.conn.cursor() as cur:
            cur.execute(statement)
        self.conn.commit()


audit = AuditLog("dbname=app")


@app.post("/login")
def login():
    source = "mobile" if request.headers.get("X-Client") == "ios" else "web"
    audit.record("login", source)
    return {"ok": True}
