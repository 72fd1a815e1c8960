# case: safe CWE-22
# Same download; the name goes through werkzeug's secure_filename first.
import os

from flask import Flask, request, send_file
from werkzeug.utils import secure_filename

app = Flask(__name__)
app.config["REPORT_DIR"] = "/srv/app/reports"


def report_path(filename):
    return os.path.join(app.config["REPORT_DIR"], secure_filename(filename))


@app.get("/reports/download")
def download_report():
    return send_file(report_path(request.args["file"]), as_attachment=True)
