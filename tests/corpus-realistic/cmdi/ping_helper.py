# case: vulnerable CWE-78
# An ops dashboard pings a host typed by the user; the command is built in a helper.
import subprocess

from flask import Flask, jsonify, request

app = Flask(__name__)


def build_ping_command(host, count=3):
    return "ping -c {} {}".format(count, host)


def run_diagnostic(command):
    completed = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=30)
    return completed.returncode, completed.stdout


@app.route("/diagnostics/ping", methods=["POST"])
def ping():
    host = request.form.get("host", "localhost")
    code, output = run_diagnostic(build_ping_command(host))
    return jsonify(ok=code == 0, output=output)
