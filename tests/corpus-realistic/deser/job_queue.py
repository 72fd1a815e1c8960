# case: vulnerable CWE-502
# A worker endpoint accepts a job payload over HTTP and unpickles the body in a job class.
import pickle

from flask import Flask, request

app = Flask(__name__)


class Job:
    def __init__(self, payload):
        self.payload = payload

    def decode(self):
        return pickle.loads(self.payload)


@app.post("/internal/jobs")
def submit_job():
    job = Job(request.get_data())
    task = job.decode()
    return {"task": str(task)}
