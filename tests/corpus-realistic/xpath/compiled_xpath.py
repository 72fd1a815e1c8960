# case: vulnerable CWE-643
# A compiled XPath object is created per request from a header value.
from flask import Flask, request
from lxml import etree

app = Flask(__name__)
DOC = etree.parse("/srv/app/permissions.xml")


def permission_query(role):
    return etree.XPath("//role[@name='%s']/permission/text()" % role)


@app.get("/permissions")
def permissions():
    finder = permission_query(request.headers.get("X-Role", "viewer"))
    return {"permissions": finder(DOC)}
