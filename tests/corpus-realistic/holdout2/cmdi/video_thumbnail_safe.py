# case: safe CWE-78
# Same service; ffmpeg gets an argv list and the timestamp is validated.
import os
import re
import subprocess

from flask import Blueprint, abort, current_app, request
from werkzeug.utils import secure_filename

media = Blueprint("media", __name__)
TIMESTAMP = re.compile(r"^\d{2}:\d{2}:\d{2}$")


def thumbnail_argv(source, at):
    out = os.path.splitext(source)[0] + ".jpg"
    return ["ffmpeg", "-y", "-ss", at, "-i", source, "-frames:v", "1", out]


@media.route("/thumbnails", methods=["POST"])
def make_thumbnail():
    upload = request.files["video"]
    at = request.form.get("at", "00:00:01")
    if not TIMESTAMP.fullmatch(at):
        abort(400)
    path = os.path.join(current_app.config["UPLOAD_DIR"], secure_filename(upload.filename))
    upload.save(path)
    subprocess.run(thumbnail_argv(path, at), check=True)
    return {"ok": True}
