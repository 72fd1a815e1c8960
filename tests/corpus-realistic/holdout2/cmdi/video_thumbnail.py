# case: vulnerable CWE-78
# A media service builds an ffmpeg command from the uploaded file name and a timestamp option.
import os

from flask import Blueprint, current_app, request

media = Blueprint("media", __name__)


def thumbnail_command(source, at="00:00:01"):
    out = os.path.splitext(source)[0] + ".jpg"
    return "ffmpeg -y -ss %s -i %s -frames:v 1 %s" % (at, source, out)


@media.route("/thumbnails", methods=["POST"])
def make_thumbnail():
    upload = request.files["video"]
    path = os.path.join(current_app.config["UPLOAD_DIR"], upload.filename)
    upload.save(path)
    os.popen(thumbnail_command(path, request.form.get("at", "00:00:01"))).read()
    return {"ok": True}
