# case: vulnerable CWE-22
# Restoring a backup copies a file named in the form into the data directory.
import shutil
from pathlib import Path

from flask import Flask, request

app = Flask(__name__)
BACKUPS = Path("/srv/app/backups")
DATA = Path("/srv/app/data")


class Restorer:
    def __init__(self, source_dir, target_dir):
        self.source_dir = source_dir
        self.target_dir = target_dir

    def restore(self, name):
        source = self.source_dir / name
        shutil.copy(source, self.target_dir / "current.db")
        return source.stat().st_size


@app.post("/restore")
def restore():
    size = Restorer(BACKUPS, DATA).restore(request.form["backup"])
    return {"restored_bytes": size}
