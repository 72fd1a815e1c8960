# case: vulnerable CWE-643
# A directory service looks users up in an XML file with an XPath built by a helper.
from flask import Flask, jsonify, request
from lxml import etree

app = Flask(__name__)


class Directory:
    def __init__(self, path):
        self.tree = etree.parse(path)

    def by_login(self, login):
        expr = "//user[@login='" + login + "']"
        return [u.get("name") for u in self.tree.xpath(expr)]


directory = Directory("/srv/app/users.xml")


@app.get("/directory")
def lookup():
    return jsonify(directory.by_login(request.args.get("login", "")))
