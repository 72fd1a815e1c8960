# case: safe CWE-502
# Same registry with yaml.safe_load.
import json

import yaml
from flask import Flask, request

app = Flask(__name__)

PARSERS = {
    "application/json": json.loads,
    "application/yaml": yaml.safe_load,
}


@app.post("/hooks/internal")
def internal_hook():
    parse = PARSERS.get(request.content_type, PARSERS["application/json"])
    event = parse(request.get_data())
    return {"type": event.get("type")}
