# case: vulnerable CWE-328
# A legacy login compares a SHA-1 of the submitted password with the stored value.
import hashlib

from flask import Flask, request

app = Flask(__name__)
USERS = {"alice": "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"}


def check_password(username, password):
    return USERS.get(username) == hashlib.sha1(password.encode()).hexdigest()


@app.post("/legacy/login")
def legacy_login():
    ok = check_password(request.form["user"], request.form["password"])
    return {"ok": ok}, 200 if ok else 401
