# case: vulnerable CWE-611
# A map service imports KML uploads; the parser is created by a factory keyed by a config value.
from flask import Flask, request
from lxml import etree

app = Flask(__name__)
app.config["XML_STRICT"] = False


def make_parser(strict):
    if strict:
        return etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLParser(resolve_entities=True, no_network=False, recover=True)


@app.post("/maps/import")
def import_kml():
    parser = make_parser(app.config["XML_STRICT"])
    doc = etree.fromstring(request.files["kml"].read(), parser)
    return {"placemarks": len(doc.findall(".//{*}Placemark"))}
