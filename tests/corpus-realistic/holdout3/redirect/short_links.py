# case: vulnerable CWE-601
# A link shortener stores target URLs posted by users and redirects to them without checks.
from flask import Flask, abort, redirect, request

app = Flask(__name__)
LINKS = {}


@app.post("/links/<code>")
def create_link(code):
    LINKS[code] = request.form["url"]
    return {"code": code}, 201


@app.get("/l")
def follow():
    target = request.args.get("u")
    if not target:
        abort(404)
    return redirect(target, code=301)
