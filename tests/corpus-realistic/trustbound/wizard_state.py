# case: vulnerable CWE-501
# A signup wizard copies all posted fields into the session through a dict comprehension.
from flask import Flask, redirect, request, session

app = Flask(__name__)
STEP_FIELDS = {"1": ["email", "name"], "2": ["plan", "seats"]}


def step_values(form, step):
    return {field: form.get(field) for field in STEP_FIELDS[step]}


@app.post("/signup/<step>")
def signup_step(step):
    session["wizard_" + step] = step_values(request.form, step)
    return redirect("/signup/%d" % (int(step) + 1))
