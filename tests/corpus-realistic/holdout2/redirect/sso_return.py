# case: vulnerable CWE-601
# After SSO the user returns to the URL kept in the session since the login started.
from flask import Flask, redirect, request, session

app = Flask(__name__)


@app.get("/sso/start")
def sso_start():
    session["return_to"] = request.args.get("return_to", "/")
    return redirect("https://idp.example.com/authorize")


@app.get("/sso/callback")
def sso_callback():
    return_to = request.args.get("return_to") or "/"
    return redirect(return_to)
