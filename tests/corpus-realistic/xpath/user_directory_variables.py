# case: safe CWE-643
# Same lookup; the login is passed as an XPath variable, not spliced into the expression.
from flask import Flask, jsonify, request
from lxml import etree

app = Flask(__name__)


class Directory:
    def __init__(self, path):
        self.tree = etree.parse(path)

    def by_login(self, login):
        return [u.get("name") for u in self.tree.xpath("//user[@login=$login]", login=login)]


directory = Directory("/srv/app/users.xml")


@app.get("/directory")
def lookup():
    return jsonify(directory.by_login(request.args.get("login", "")))
