# case: vulnerable CWE-501
# A support tool stores the user id to impersonate, taken from a cookie, in the session.
from flask import Flask, request, session

app = Flask(__name__)


def impersonation_target():
    return request.cookies.get("support_target")


@app.post("/support/impersonate")
def impersonate():
    target = impersonation_target()
    if target:
        session["impersonating"] = target
    return {"impersonating": target}
