# case: safe CWE-94
# Transforms are built into the service; the tenant only picks one of them by name.
from flask import Flask, abort, request

app = Flask(__name__)
BUILTIN_SNIPPETS = {
    "identity": "result = event",
    "summary": "result = {'id': event.get('id'), 'type': event.get('type')}",
}


def compiled(name):
    snippet = BUILTIN_SNIPPETS.get(name)
    if snippet is None:
        abort(404)
    return compile(snippet, "<transform>", "exec")


@app.route("/tenants/<tenant>/events", methods=["POST"])
def on_event(tenant):
    code = compiled(request.headers.get("X-Transform", "identity"))
    scope = {"event": request.get_json()}
    exec(code, scope)
    return scope.get("result", {})
