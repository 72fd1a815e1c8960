# case: vulnerable CWE-611
# A document converter parses the uploaded file with a module-level parser that resolves entities.
from flask import Flask, request
from lxml import etree

app = Flask(__name__)
PARSER = etree.XMLParser(load_dtd=True, resolve_entities=True)


def convert(stream):
    tree = etree.parse(stream, PARSER)
    return etree.tostring(tree, method="text", encoding="unicode")


@app.post("/convert")
def convert_upload():
    return {"text": convert(request.files["doc"].stream)}
