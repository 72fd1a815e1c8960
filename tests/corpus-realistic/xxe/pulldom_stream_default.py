# case: safe CWE-611
# The same stream import with pulldom's default parser (no external entities).
from xml.dom import pulldom

from flask import Flask, request

app = Flask(__name__)


@app.post("/orders/import")
def import_orders():
    events = pulldom.parseString(request.get_data().decode())
    count = 0
    for event, node in events:
        if event == pulldom.START_ELEMENT and node.tagName == "order":
            count += 1
    return {"orders": count}
