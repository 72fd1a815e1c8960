# case: vulnerable CWE-22
# A log viewer concatenates the service name from the URL; the check looks at the suffix only.
from flask import Flask, abort

app = Flask(__name__)
LOG_DIR = "/var/log/app/"


def log_path(service):
    if not service.endswith(".log"):
        abort(404)
    return LOG_DIR + service


@app.route("/logs/<path:service>")
def view_log(service):
    with open(log_path(service)) as fh:
        tail = fh.readlines()[-200:]
    return {"lines": tail}
