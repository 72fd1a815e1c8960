# case: vulnerable CWE-94
# Webhook "transform" snippets are stored per tenant and compiled when an event arrives.
from flask import Flask, request

app = Flask(__name__)
TRANSFORMS = {}


@app.route("/tenants/<tenant>/transform", methods=["PUT"])
def save_transform(tenant):
    TRANSFORMS[tenant] = request.get_data(as_text=True)
    return "", 204


@app.route("/tenants/<tenant>/events", methods=["POST"])
def on_event(tenant):
    snippet = request.headers.get("X-Transform", "result = event")
    code = compile(snippet, "<transform>", "exec")
    scope = {"event": request.get_json()}
    exec(code, scope)
    return scope.get("result", {})
