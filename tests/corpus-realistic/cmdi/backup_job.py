# case: vulnerable CWE-78
# A backup service keeps the archive name on the job object and shells out later.
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
    job = BackupJob(request.json["label"])
    status = job.run()
    return {"status": status}, 201
