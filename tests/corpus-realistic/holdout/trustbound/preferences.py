# case: vulnerable CWE-501
# Preferences posted as JSON are merged into the session with update().
from flask import Flask, request, session

app = Flask(__name__)


def incoming_preferences():
    data = request.get_json(silent=True) or {}
    return {key: value for key, value in data.items()}


@app.post("/preferences")
def save_preferences():
    session.update(incoming_preferences())
    return {"saved": True}
