# case: safe CWE-611
# Same import with the strict parser always used.
from flask import Flask, request
from lxml import etree

app = Flask(__name__)
app.config["XML_STRICT"] = True


def make_parser():
    return etree.XMLParser(resolve_entities=False, no_network=True, recover=True)


@app.post("/maps/import")
def import_kml():
    doc = etree.fromstring(request.files["kml"].read(), make_parser())
    return {"placemarks": len(doc.findall(".//{*}Placemark"))}
