# case: vulnerable CWE-643
# Feature flags live in an XML file; the flag name from a header is searched with an f-string XPath.
from flask import Flask, request
from lxml import etree

app = Flask(__name__)


class FlagStore:
    def __init__(self, path):
        self.root = etree.parse(path).getroot()

    def enabled(self, flag):
        nodes = self.root.xpath(f"/flags/flag[@name='{flag}']/@enabled")
        return bool(nodes) and nodes[0] == "true"


FLAGS = FlagStore("/srv/app/flags.xml")


@app.get("/flags")
def flag_state():
    return {"enabled": FLAGS.enabled(request.headers.get("X-Flag", "beta"))}
