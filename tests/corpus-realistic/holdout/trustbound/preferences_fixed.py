# case: safe CWE-501
# Only a page-size number, clamped server-side, is stored in the session.
from flask import Flask, request, session

app = Flask(__name__)


def page_size(raw):
    return max(10, min(100, int(raw)))


@app.post("/preferences")
def save_preferences():
    data = request.get_json(silent=True) or {}
    session["page_size"] = page_size(data.get("page_size", 20))
    return {"saved": True}
