# case: safe CWE-611
# Same import, with the parser factory turning entity resolution and network access off.
from flask import Flask, request
from lxml import etree

app = Flask(__name__)


def invoice_parser():
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)


def parse_invoice(blob):
    root = etree.fromstring(blob, parser=invoice_parser())
    return {"number": root.findtext("number"), "total": root.findtext("total")}


@app.post("/invoices")
def upload_invoice():
    invoice = parse_invoice(request.files["invoice"].read())
    return invoice, 201
