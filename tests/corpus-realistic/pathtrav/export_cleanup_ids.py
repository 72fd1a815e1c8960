# case: safe CWE-22
# The client names exports by numeric id; the path is built from the integer.
import os

from flask import Flask, request

app = Flask(__name__)
EXPORT_DIR = "/srv/app/exports"


def export_path(export_id):
    return os.path.join(EXPORT_DIR, "export-%d.csv" % export_id)


@app.delete("/exports")
def delete_exports():
    ids = [int(value) for value in request.get_json().get("ids", [])]
    for export_id in ids:
        path = export_path(export_id)
        if os.path.exists(path):
            os.remove(path)
    return {"deleted": len(ids)}
