# case: safe CWE-643
# The compiled XPath takes the role as a variable; the expression text is constant.
from flask import Flask, request
from lxml import etree

app = Flask(__name__)
DOC = etree.parse("/srv/app/permissions.xml")
PERMISSION_QUERY = etree.XPath("//role[@name=$role]/permission/text()")


def permissions_for(role):
    return PERMISSION_QUERY(DOC, role=role)


@app.get("/permissions")
def permissions():
    return {"permissions": permissions_for(request.headers.get("X-Role", "viewer"))}
