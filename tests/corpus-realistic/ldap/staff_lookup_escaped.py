# case: safe CWE-90
# Same directory; the surname is escaped with ldap.filter.escape_filter_chars in the view.
import ldap
import ldap.filter
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
    surname = ldap.filter.escape_filter_chars(request.args.get("sn", ""))
    return jsonify([dn for dn, _ in directory.search(surname)])
