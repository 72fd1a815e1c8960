# case: safe CWE-90
# The alias report lists the aliases of the fixed postmaster address only.
from flask import Flask, request
from ldap3 import Connection, Server

app = Flask(__name__)
POSTMASTER = "postmaster@example.com"


class AliasQuery:
    def __init__(self, address):
        self.address = address

    def ldap_filter(self):
        return "(|(mail=%s)(mailAlternateAddress=%s))" % (self.address, self.address)


@app.get("/aliases")
def aliases():
    verbose = request.args.get("verbose") == "1"
    query = AliasQuery(POSTMASTER)
    conn = Connection(Server("ldap://ldap.example.com"), auto_bind=True)
    conn.search("ou=mail,dc=example,dc=com", query.ldap_filter(), attributes=["mail"])
    return {"count": len(conn.entries), "verbose": verbose}
