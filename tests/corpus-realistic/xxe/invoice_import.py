# case: vulnerable CWE-611
# Invoice upload parsed by lxml with a parser configured in a factory to resolve entities.
from flask import Flask, request
from lxml import etree

app = Flask(__name__)


def invoice_parser():
    return etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=False)


def parse_invoice(blob):
    root = etree.fromstring(blob, parser=invoice_parser())
    return {"number": root.findtext("number"), "total": root.findtext("total")}


@app.post("/invoices")
def upload_invoice():
    invoice = parse_invoice(request.files["invoice"].read())
    return invoice, 201
