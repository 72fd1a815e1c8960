# case: safe CWE-95
# Alert rules hold a metric name and a numeric threshold; the comparison is fixed code.
from flask import Flask, abort, request

app = Flask(__name__)
METRICS = ("cpu", "mem", "disk")


class AlertRule:
    def __init__(self, metric, threshold):
        self.metric = metric
        self.threshold = threshold

    def fires(self, metrics):
        return metrics.get(self.metric, 0) > self.threshold


@app.post("/alerts")
def add_alert():
    metric = request.form["metric"]
    if metric not in METRICS:
        abort(400)
    rule = AlertRule(metric, float(request.form["threshold"]))
    return {"fires_now": rule.fires({"cpu": 0.5, "mem": 0.7})}
