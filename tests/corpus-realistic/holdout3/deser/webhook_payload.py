# case: vulnerable CWE-502
# Internal webhooks carry a YAML body that is loaded with yaml.unsafe_load in a parser registry.
import yaml
from flask import Flask, request

app = Flask(__name__)

PARSERS = {
    "application/json": lambda body: __import__("json").loads(body),
    "application/yaml": yaml.unsafe_load,
}


@app.post("/hooks/internal")
def internal_hook():
    parse = PARSERS.get(request.content_type, PARSERS["application/json"])
    event = parse(request.get_data())
    return {"type": event.get("type")}
