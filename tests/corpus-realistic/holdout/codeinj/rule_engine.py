# case: vulnerable CWE-95
# Alert rules are stored as Python expressions submitted through a form and evaluated per metric.
from flask import Flask, request

app = Flask(__name__)


class AlertRule:
    def __init__(self, name, condition):
        self.name = name
        self.condition = condition

    def fires(self, metrics):
        return bool(eval(self.condition, {}, dict(metrics)))


RULES = []


@app.post("/alerts")
def add_alert():
    rule = AlertRule(request.form["name"], request.form["condition"])
    RULES.append(rule)
    return {"fires_now": rule.fires({"cpu": 0.5, "mem": 0.7})}
