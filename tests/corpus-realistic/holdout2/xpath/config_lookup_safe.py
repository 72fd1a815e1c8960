# case: safe CWE-643
# Same store; only flags listed in the code can be asked for.
from flask import Flask, abort, request
from lxml import etree

app = Flask(__name__)
KNOWN_FLAGS = ("beta", "dark_mode", "new_checkout")


class FlagStore:
    def __init__(self, path):
        self.root = etree.parse(path).getroot()

    def enabled(self, flag):
        nodes = self.root.xpath(f"/flags/flag[@name='{flag}']/@enabled")
        return bool(nodes) and nodes[0] == "true"


FLAGS = FlagStore("/srv/app/flags.xml")


@app.get("/flags")
def flag_state():
    flag = request.headers.get("X-Flag", "beta")
    if flag not in KNOWN_FLAGS:
        abort(404)
    return {"enabled": FLAGS.enabled(flag)}
