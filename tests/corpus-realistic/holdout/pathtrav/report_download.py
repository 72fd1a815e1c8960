# case: vulnerable CWE-22
# Reports are served with send_file from a path assembled by a settings-driven helper.
import os

from flask import Flask, request, send_file

app = Flask(__name__)
app.config["REPORT_DIR"] = "/srv/app/reports"


def report_path(filename):
    return os.path.join(app.config["REPORT_DIR"], filename)


@app.get("/reports/download")
def download_report():
    return send_file(report_path(request.args["file"]), as_attachment=True)
