"""Trust boundary samples (py-trust-boundary-session)."""
from django.http import JsonResponse
from flask import Flask, request, session

app = Flask(__name__)
ROLES = {"viewer", "editor"}


@app.post("/prefs")
def prefs():
    # ruleid: py-trust-boundary-session
    session["role"] = request.form["role"]
    return "ok"


@app.post("/prefs/checked")
def prefs_checked():
    role = request.form["role"]
    if role not in ROLES:
        return "bad role", 400
    # ok: py-trust-boundary-session
    session["role"] = role
    # ok: py-trust-boundary-session
    session["page_size"] = int(request.form["page_size"])
    return "ok"


def django_prefs(request):
    # ruleid: py-trust-boundary-session
    request.session["tenant"] = request.POST.get("tenant")
    # ok: py-trust-boundary-session
    request.session["visits"] = request.session.get("visits", 0) + 1
    return JsonResponse({"ok": True})
