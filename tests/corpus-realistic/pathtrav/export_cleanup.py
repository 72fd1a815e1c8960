# case: vulnerable CWE-22
# Deleting an export: the file name from the JSON body is kept in a list and removed later.
import os
import shutil

from flask import Flask, request

app = Flask(__name__)
EXPORT_DIR = "/srv/app/exports"


def expired_paths(names):
    return [EXPORT_DIR + "/" + n for n in names]


@app.delete("/exports")
def delete_exports():
    names = request.get_json().get("files", [])
    for path in expired_paths(names):
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    return {"deleted": len(names)}
