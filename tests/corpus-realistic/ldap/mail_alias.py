# case: vulnerable CWE-90
# Mail alias lookup keeps the address on a request object and filters on it with ldap3.
from flask import Flask, request
from ldap3 import Connection, Server

app = Flask(__name__)


class AliasQuery:
    def __init__(self, address):
        self.address = address

    def ldap_filter(self):
        return "(|(mail=%s)(mailAlternateAddress=%s))" % (self.address, self.address)


@app.get("/aliases")
def aliases():
    query = AliasQuery(request.args.get("address", ""))
    conn = Connection(Server("ldap://ldap.example.com"), auto_bind=True)
    conn.search("ou=mail,dc=example,dc=com", query.ldap_filter(), attributes=["mail"])
    return {"count": len(conn.entries)}
