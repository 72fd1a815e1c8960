# case: vulnerable CWE-611
# Streaming a large order export with pulldom over a SAX parser that loads external entities.
import xml.sax
from xml.dom import pulldom

from flask import Flask, request

app = Flask(__name__)


def make_stream_parser():
    sax = xml.sax.make_parser()
    sax.setFeature(xml.sax.handler.feature_external_ges, 1)
    return sax


@app.post("/orders/import")
def import_orders():
    events = pulldom.parseString(request.get_data().decode(), parser=make_stream_parser())
    count = 0
    for event, node in events:
        if event == pulldom.START_ELEMENT and node.tagName == "order":
            count += 1
    return {"orders": count}
