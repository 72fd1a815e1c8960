"""XML external entity samples (py-xxe)."""
import xml.sax
import xml.sax.handler

import defusedxml.ElementTree
from flask import Flask, request
from lxml import etree

app = Flask(__name__)


@app.post("/import")
def import_xml():
    parser = etree.XMLParser(resolve_entities=True)
    # ruleid: py-xxe
    doc = etree.fromstring(request.data, parser)
    return {"root": doc.tag}


@app.post("/import/network")
def import_xml_network():
    parser = etree.XMLParser(no_network=False, load_dtd=True)
    # ruleid: py-xxe
    doc = etree.parse(request.files["doc"], parser=parser)
    return {"root": doc.getroot().tag}


@app.post("/import/safe")
def import_xml_safe():
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    # ok: py-xxe
    doc = etree.fromstring(request.data, parser)
    # ok: py-xxe
    other = defusedxml.ElementTree.fromstring(request.data)
    return {"root": doc.tag, "other": other.tag}


@app.post("/import/sax")
def import_sax():
    handler = xml.sax.handler.ContentHandler()
    sax = xml.sax.make_parser()
    sax.setContentHandler(handler)
    sax.setFeature(xml.sax.handler.feature_external_ges, True)
    # ruleid: py-xxe
    sax.parse(request.files["doc"])
    return "ok"


def parse_local_config():
    parser = etree.XMLParser(resolve_entities=True)
    # ok: py-xxe
    return etree.parse("/etc/app/config.xml", parser)
