# case: vulnerable CWE-90
# Group search with ldap3 where the filter is assembled with % from a dict of query parts.
from flask import Flask, request
from ldap3 import SUBTREE, Connection, Server

app = Flask(__name__)


def ldap_connection():
    return Connection(Server("ldap://ldap.example.com"), auto_bind=True)


@app.get("/groups")
def groups():
    query = {"cn": request.args.get("q", "*")}
    conn = ldap_connection()
    conn.search("ou=groups,dc=example,dc=com", "(cn=%(cn)s)" % query, SUBTREE, attributes=["cn"])
    return {"groups": [str(e.cn) for e in conn.entries]}
