"""Open redirect samples (py-open-redirect)."""
from urllib.parse import urlparse

from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from flask import Flask, abort, redirect, request, url_for

app = Flask(__name__)
api = FastAPI()
ALLOWED_HOSTS = {"app.example.com", "docs.example.com"}


@app.route("/login/done")
def login_done():
    target = request.args.get("next", "/")
    # ruleid: py-open-redirect
    return redirect(target)


@app.route("/login/done-checked")
def login_done_checked():
    target = request.args.get("next", "/")
    if urlparse(target).netloc not in ALLOWED_HOSTS:
        abort(400)
    # ok: py-open-redirect
    return redirect(target)


@app.route("/go/<section>")
def go(section):
    # ok: py-open-redirect
    return redirect("/docs/" + section)


@app.route("/go2/<section>")
def go2(section):
    # ok: py-open-redirect
    return redirect(f"https://docs.example.com/{section}")


@app.route("/logout")
def logout():
    # ok: py-open-redirect
    return redirect(url_for("index"))


@app.route("/bounce")
def bounce():
    # ruleid: py-open-redirect
    return redirect("//" + request.args["host"])


def django_next(request):
    nxt = request.GET.get("next", "/")
    if url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        # ok: py-open-redirect
        return HttpResponseRedirect(nxt)
    # ruleid: py-open-redirect
    return HttpResponseRedirect(request.GET["fallback"])


@api.get("/r")
async def fast_redirect(url: str):
    # ruleid: py-open-redirect
    return RedirectResponse(url)
