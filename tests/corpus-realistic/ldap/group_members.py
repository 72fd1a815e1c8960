# case: vulnerable CWE-90
# Group membership check: the group name from the URL goes through a dict of filter templates.
import ldap
from flask import Flask

app = Flask(__name__)
FILTERS = {"group": "(&(objectClass=groupOfNames)(cn=%s))"}


def group_filter(name):
    return FILTERS["group"] % name


@app.route("/groups/<name>/members")
def members(name):
    conn = ldap.initialize("ldap://ldap.example.com")
    results = conn.search_s("ou=groups,dc=example,dc=com", ldap.SCOPE_ONELEVEL, group_filter(name))
    return {"members": [m.decode() for _, attrs in results for m in attrs.get("member", [])]}
