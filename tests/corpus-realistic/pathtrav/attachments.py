# case: vulnerable CWE-22
# Attachment download: the storage class joins the requested name onto its root directory.
import os

from flask import Flask, Response, request

app = Flask(__name__)


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
    data = store.read(request.args["name"])
    return Response(data, mimetype="application/octet-stream")
