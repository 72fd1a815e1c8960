# case: safe CWE-90
# Same search with the term escaped.
from flask import Flask, request
from ldap3 import SUBTREE, Connection, Server
from ldap3.utils.conv import escape_filter_chars

app = Flask(__name__)


def ldap_connection():
    return Connection(Server("ldap://ldap.example.com"), auto_bind=True)


@app.get("/groups")
def groups():
    query = {"cn": escape_filter_chars(request.args.get("q", "x"))}
    conn = ldap_connection()
    conn.search("ou=groups,dc=example,dc=com", "(cn=%(cn)s)" % query, SUBTREE, attributes=["cn"])
    return {"groups": [str(e.cn) for e in conn.entries]}
