# case: safe CWE-502
# Jobs come as JSON validated against a fixed set of task names; nothing is unpickled.
import json

from flask import Flask, abort, request

app = Flask(__name__)
TASKS = {"resize", "transcode", "thumbnail"}


class Job:
    def __init__(self, payload):
        self.payload = payload

    def decode(self):
        data = json.loads(self.payload)
        if data.get("task") not in TASKS:
            abort(400)
        return data


@app.post("/internal/jobs")
def submit_job():
    job = Job(request.get_data())
    task = job.decode()
    return {"task": task["task"]}
