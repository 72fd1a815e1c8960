# case: safe CWE-78
# A feature switch that is always off decides whether the user's script name is used.
import os

from flask import Flask, request

app = Flask(__name__)
ALLOW_CUSTOM_SCRIPTS = False


def script_for(requested):
    if ALLOW_CUSTOM_SCRIPTS:
        return requested
    return "/opt/app/bin/rotate-logs.sh"


@app.route("/maintenance", methods=["POST"])
def maintenance():
    script = script_for(request.form.get("script", ""))
    rc = os.system("sh " + script)
    return {"rc": rc}
