# case: vulnerable CWE-643
# ElementTree's findall with a path built from the URL segment (a limited XPath, still injectable).
import xml.etree.ElementTree as ET

from flask import Flask

app = Flask(__name__)
TREE = ET.parse("/srv/app/menu.xml")


def menu_path(section):
    return ".//section[@id='" + section + "']/item"


@app.route("/menu/<section>")
def menu(section):
    return {"items": [i.text for i in TREE.getroot().findall(menu_path(section))]}
