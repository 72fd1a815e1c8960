# case: safe CWE-78
# The backup label comes from the clock, not from the request; the request only says "go".
import datetime
import os

from flask import Blueprint, request

bp = Blueprint("backups", __name__)


class BackupJob:
    def __init__(self, label):
        self.label = label
        self.target_dir = "/var/backups/app"

    def archive_path(self):
        return os.path.join(self.target_dir, self.label + ".tar.gz")

    def run(self):
        cmd = "tar czf " + self.archive_path() + " /srv/app/data"
        return os.system(cmd)


@bp.route("/backups", methods=["POST"])
def create_backup():
    reason = request.json.get("reason", "manual")
    job = BackupJob(datetime.datetime.utcnow().strftime("%Y%m%d-%H%M%S"))
    status = job.run()
    return {"status": status, "reason": reason}, 201
