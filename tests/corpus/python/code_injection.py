"""Code and template injection samples (py-code-injection, py-template-injection)."""
import ast
import json

import jinja2
from flask import Flask, render_template_string, request

app = Flask(__name__)
OPERATIONS = {"sum": sum, "max": max, "min": min}


@app.route("/calc")
def calc():
    expr = request.args["expr"]
    # ruleid: py-code-injection
    result = eval(expr)
    # ok: py-code-injection
    literal = ast.literal_eval(expr)
    return {"result": result, "literal": literal}


@app.post("/plugin")
def plugin():
    source = request.get_json()["code"]
    namespace: dict[str, object] = {}
    # ruleid: py-code-injection
    exec(source, namespace)
    # ruleid: py-code-injection
    code = compile("def f():\n    return " + source, "<plugin>", "exec")
    return {"names": sorted(namespace), "code": str(code)}


@app.route("/aggregate/<op>")
def aggregate(op):
    values = json.loads(request.args.get("values", "[]"))
    # ok: py-code-injection
    func = OPERATIONS[op]
    # ok: py-code-injection
    constant = eval("1 + 2")
    return {"value": func(values) + constant}


@app.route("/hello")
def hello():
    name = request.args.get("name", "world")
    # ruleid: py-template-injection
    page = render_template_string("<h1>Hello " + name + "</h1>")
    # ok: py-template-injection
    safe = render_template_string("<h1>Hello {{ name }}</h1>", name=name)
    return page + safe


@app.post("/preview")
def preview():
    template = request.form["template"]
    env = jinja2.Environment(autoescape=True)
    # ruleid: py-template-injection
    rendered = env.from_string(template).render()
    # ruleid: py-template-injection
    again = jinja2.Template(template).render()
    # ok: py-template-injection
    fixed = env.from_string("Preview of {{ t|length }} chars").render(t=template)
    return rendered + again + fixed
