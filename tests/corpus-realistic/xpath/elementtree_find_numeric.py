# case: safe CWE-643
# The section is an integer route variable converted again in the helper.
import xml.etree.ElementTree as ET

from flask import Flask

app = Flask(__name__)
TREE = ET.parse("/srv/app/menu.xml")


def menu_path(section_id):
    return ".//section[@id='%d']/item" % int(section_id)


@app.route("/menu/<int:section_id>")
def menu(section_id):
    return {"items": [i.text for i in TREE.getroot().findall(menu_path(section_id))]}
