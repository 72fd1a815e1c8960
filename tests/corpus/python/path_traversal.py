"""Path traversal samples (py-path-traversal)."""
import os
import shutil
from pathlib import Path

from flask import Flask, abort, request, send_file, send_from_directory
from werkzeug.utils import secure_filename

app = Flask(__name__)
UPLOAD_DIR = "/srv/uploads"
REPORTS = Path("/srv/reports")


@app.route("/download")
def download():
    name = request.args["file"]
    # ruleid: py-path-traversal
    return send_file(os.path.join(UPLOAD_DIR, name))


@app.route("/download/safe")
def download_safe():
    name = request.args["file"]
    # ok: py-path-traversal
    return send_from_directory(UPLOAD_DIR, name)


@app.route("/read/<path:name>")
def read(name):
    # ruleid: py-path-traversal
    with open(UPLOAD_DIR + "/" + name) as handle:
        return handle.read()


@app.route("/read-checked/<path:name>")
def read_checked(name):
    full = os.path.realpath(os.path.join(UPLOAD_DIR, name))
    if not full.startswith(UPLOAD_DIR + os.sep):
        abort(403)
    # ok: py-path-traversal
    with open(full) as handle:
        return handle.read()


@app.post("/upload")
def upload():
    file = request.files["file"]
    # ok: py-path-traversal
    target = os.path.join(UPLOAD_DIR, secure_filename(file.filename))
    file.save(target)
    # ok: py-path-traversal
    with open(target, "rb") as handle:
        size = len(handle.read())
    return {"size": size}


@app.delete("/reports/<name>")
def delete_report(name):
    path = REPORTS / name
    # ruleid: py-path-traversal
    path.unlink()
    # ruleid: py-path-traversal
    shutil.rmtree(os.path.join("/srv/cache", name))
    return "", 204


@app.get("/reports/<name>")
def get_report(name):
    path = (REPORTS / name).resolve()
    if not path.is_relative_to(REPORTS):
        abort(404)
    # ok: py-path-traversal
    return path.read_text()


@app.get("/avatars/<user>")
def avatar(user):
    # ok: py-path-traversal
    return send_file(os.path.join("/srv/avatars", os.path.basename(user) + ".png"))


def load_config():
    # ok: py-path-traversal
    with open(os.environ.get("APP_CONFIG", "/etc/app.toml")) as handle:
        return handle.read()
