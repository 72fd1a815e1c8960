# case: safe CWE-22
# The backup name must be one of the files actually present in the backup directory.
import shutil
from pathlib import Path

from flask import Flask, abort, request

app = Flask(__name__)
BACKUPS = Path("/srv/app/backups")
DATA = Path("/srv/app/data")


class Restorer:
    def __init__(self, source_dir, target_dir):
        self.source_dir = source_dir
        self.target_dir = target_dir

    def available(self):
        return {p.name for p in self.source_dir.glob("*.db")}

    def restore(self, name):
        if name not in self.available():
            abort(404)
        source = self.source_dir / name
        shutil.copy(source, self.target_dir / "current.db")
        return source.stat().st_size


@app.post("/restore")
def restore():
    size = Restorer(BACKUPS, DATA).restore(request.form["backup"])
    return {"restored_bytes": size}
