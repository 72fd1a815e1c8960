# case: safe CWE-22
# Same store, but the name is reduced to its last component in a helper first.
import os

from flask import Flask, Response, request

app = Flask(__name__)


def safe_name(raw):
    return os.path.basename(raw.replace("\\", "/"))


class AttachmentStore:
    def __init__(self, root):
        self.root = root

    def path_for(self, name):
        return os.path.join(self.root, name)

    def read(self, name):
        with open(self.path_for(name), "rb") as fh:
            return fh.read()


store = AttachmentStore("/srv/app/attachments")


@app.route("/attachments")
def download():
    data = store.read(safe_name(request.args["name"]))
    return Response(data, mimetype="application/octet-stream")
