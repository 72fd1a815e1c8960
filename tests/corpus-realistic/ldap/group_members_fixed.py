# case: safe CWE-90
# Only the configured admin groups can be listed; the name is looked up in a fixed mapping.
import ldap
from flask import Flask, abort

app = Flask(__name__)
ADMIN_GROUPS = {"ops": "(cn=operations)", "sec": "(cn=security)"}


def group_filter(key):
    if key not in ADMIN_GROUPS:
        abort(404)
    return "(&(objectClass=groupOfNames)" + ADMIN_GROUPS[key] + ")"


@app.route("/groups/<key>/members")
def members(key):
    conn = ldap.initialize("ldap://ldap.example.com")
    results = conn.search_s("ou=groups,dc=example,dc=com", ldap.SCOPE_ONELEVEL, group_filter(key))
    return {"members": [m.decode() for _, attrs in results for m in attrs.get("member", [])]}
