# case: safe CWE-22
# Uploads are written under a root; a helper resolves the path and checks containment.
import os

from flask import Flask, abort, request

app = Flask(__name__)
UPLOAD_ROOT = os.path.realpath("/srv/app/uploads")


def confined(root, relative):
    candidate = os.path.realpath(os.path.join(root, relative))
    if os.path.commonpath([root, candidate]) != root:
        abort(400)
    return candidate


@app.put("/files/<path:relative>")
def put_file(relative):
    target = confined(UPLOAD_ROOT, relative)
    with open(target, "wb") as fh:
        fh.write(request.get_data())
    return "", 204
