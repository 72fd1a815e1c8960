"""Cross-site scripting samples (py-xss)."""
import html

from django.http import HttpResponse
from django.utils.safestring import mark_safe
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from flask import Flask, jsonify, make_response, render_template, request
from markupsafe import Markup, escape

app = Flask(__name__)
api = FastAPI()


@app.route("/greet")
def greet():
    name = request.args.get("name", "")
    # ruleid: py-xss
    return "<h1>Hello " + name + "</h1>"


@app.route("/greet/f")
def greet_f():
    name = request.args.get("name", "")
    # ruleid: py-xss
    return f"<h1>Hello {name}</h1>"


@app.route("/greet/escaped")
def greet_escaped():
    name = request.args.get("name", "")
    # ok: py-xss
    return f"<h1>Hello {escape(name)}</h1>"


@app.route("/greet/template")
def greet_template():
    # ok: py-xss
    return render_template("greet.html", name=request.args.get("name", ""))


@app.route("/greet/json")
def greet_json():
    # ok: py-xss
    return jsonify(greeting="Hello " + request.args.get("name", ""))


@app.route("/comment", methods=["POST"])
def comment():
    text = request.form["text"]
    # ruleid: py-xss
    body = Markup("<p>" + text + "</p>")
    # ok: py-xss
    safe_body = Markup("<p>{}</p>").format(text)
    # ruleid: py-xss
    return make_response(body)


@app.route("/comment/safe", methods=["POST"])
def comment_safe():
    text = request.form["text"]
    # ok: py-xss
    return make_response("<p>" + html.escape(text) + "</p>")


def django_search(request):
    query = request.GET.get("q", "")
    # ruleid: py-xss
    return HttpResponse("<p>Results for " + query + "</p>")


def django_badge(request):
    label = request.GET["label"]
    # ruleid: py-xss
    return HttpResponse(mark_safe(f"<span>{label}</span>"))


def django_api(request):
    label = request.GET["label"]
    # ok: py-xss
    return HttpResponse('{"label": "%s"}' % label.replace('"', ""), content_type="application/json")


@api.get("/page", response_class=HTMLResponse)
async def page(title: str):
    # ruleid: py-xss
    return HTMLResponse(f"<title>{title}</title>")


@api.get("/page/safe", response_class=HTMLResponse)
async def page_safe(title: str):
    # ok: py-xss
    return HTMLResponse(f"<title>{html.escape(title)}</title>")


@api.get("/echo")
async def echo(title: str):
    # ok: py-xss
    return {"title": f"<b>{title}</b>"}
