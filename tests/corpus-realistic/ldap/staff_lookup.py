# case: vulnerable CWE-90
# A staff directory searches LDAP with a filter built in a client class.
import ldap
from flask import Flask, jsonify, request

app = Flask(__name__)


class StaffDirectory:
    base_dn = "ou=people,dc=example,dc=com"

    def __init__(self, uri):
        self.conn = ldap.initialize(uri)

    def search(self, surname):
        flt = "(&(objectClass=person)(sn=" + surname + "))"
        return self.conn.search_s(self.base_dn, ldap.SCOPE_SUBTREE, flt, ["cn", "mail"])


directory = StaffDirectory("ldap://ldap.example.com")


@app.get("/staff")
def staff():
    return jsonify([dn for dn, _ in directory.search(request.args.get("sn", ""))])
