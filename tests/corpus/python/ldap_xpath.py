"""LDAP and XPath injection samples (py-ldap-injection, py-xpath-injection)."""
import re

import ldap
import ldap.filter
from flask import Flask, request
from ldap3 import Connection, Server
from ldap3.utils.conv import escape_filter_chars
from lxml import etree

app = Flask(__name__)
DIRECTORY = Server("ldap://ldap.internal")
USERS = etree.parse("users.xml")


@app.post("/ldap/login")
def ldap_login():
    user = request.form["username"]
    conn = Connection(DIRECTORY, auto_bind=True)
    # ruleid: py-ldap-injection
    conn.search("dc=example,dc=com", "(&(objectClass=person)(uid=" + user + "))")
    # ok: py-ldap-injection
    conn.search("dc=example,dc=com", f"(&(objectClass=person)(uid={escape_filter_chars(user)}))")
    # ok: py-ldap-injection
    found = re.search(r"^[a-z]+$", user)
    return {"entries": len(conn.entries), "valid": bool(found)}


@app.route("/ldap/groups/<group>")
def ldap_groups(group):
    conn = ldap.initialize("ldap://ldap.internal")
    # ruleid: py-ldap-injection
    conn.search_s("ou=groups,dc=example,dc=com", ldap.SCOPE_SUBTREE, f"(cn={group})")
    flt = ldap.filter.filter_format("(cn=%s)", [group])
    # ok: py-ldap-injection
    return {"groups": conn.search_s("ou=groups,dc=example,dc=com", ldap.SCOPE_SUBTREE, flt)}


@app.route("/xpath/user")
def xpath_user():
    name = request.args["name"]
    # ruleid: py-xpath-injection
    nodes = USERS.xpath("//user[@name='" + name + "']/email/text()")
    # ok: py-xpath-injection
    safe = USERS.xpath("//user[@name=$name]/email/text()", name=name)
    # ruleid: py-xpath-injection
    finder = etree.XPath(f"//user[@role='{name}']")
    return {"emails": [str(n) for n in nodes + safe + finder(USERS)]}
