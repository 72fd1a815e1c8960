"""The dataflow pass on small trees (run in-process; test_dataflow.py runs it in the sandbox)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sandbox.analysis.flow.runner import analyse

FLASK = "from flask import Flask, abort, redirect, request, session\n\napp = Flask(__name__)\n"


def _run(tmp_path: Path, files: dict[str, str], targets: list[str] | None = None) -> dict[str, Any]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return analyse(tmp_path, targets or [])


def _found(result: dict[str, Any]) -> set[tuple[str, int, str]]:
    return {(f["path"], f["line"], f["rule_id"]) for f in result["findings"]}


def _clean(result: dict[str, Any]) -> set[tuple[str, int]]:
    return {(c["path"], c["line"]) for c in result["clean"]}


def _line(text: str, needle: str) -> int:
    """The line number of the first line of ``text`` that contains ``needle``."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


HELPERS = (
    FLASK
    + """import os, shlex

def build(host):
    return "ping -c 1 " + host

def run(command):
    return os.system(command)

def quoted(raw):
    return shlex.quote(raw)

@app.route("/a")
def a():
    return str(run(build(request.args["h"])))

@app.route("/b")
def b():
    return str(run(build(quoted(request.args["h"]))))
"""
)


def test_taint_through_helpers_and_a_sanitiser_in_another_function(tmp_path: Path) -> None:
    result = _run(tmp_path, {"app.py": HELPERS})
    # the sink in run() is reached tainted from a() and quoted from b(): one finding, with the chain
    assert _found(result) == {("app.py", _line(HELPERS, "os.system"), "flow-command-injection")}
    (finding,) = result["findings"]
    source = f"flask.request.args at app.py:{_line(HELPERS, 'build(request')}"
    assert source in finding["message"] and "a → run" in finding["message"]


CONSTANT_FLAG = (
    FLASK
    + """import os

CUSTOM = False

def script(requested):
    if CUSTOM:
        return requested
    return "/opt/rotate.sh"

@app.post("/m")
def m():
    return {"rc": os.system("sh " + script(request.form["s"]))}
"""
)


def test_a_condition_fixed_by_a_constant_is_folded(tmp_path: Path) -> None:
    result = _run(tmp_path, {"app.py": CONSTANT_FLAG})
    sink = _line(CONSTANT_FLAG, "os.system")
    assert _found(result) == set() and ("app.py", sink) in _clean(result)
    flipped = _run(tmp_path / "on", {"app.py": CONSTANT_FLAG.replace("= False", "= True")})
    assert _found(flipped) == {("app.py", sink, "flow-command-injection")}


FIELDS_AND_CONTAINERS = (
    FLASK
    + """import sqlite3

class Repo:
    table = "users"

    def __init__(self, conn):
        self.conn = conn

    def find(self, filters):
        clauses = []
        for column, value in filters.items():
            clauses.append("%s = '%s'" % (column, value))
        return self.conn.execute("SELECT * FROM " + self.table + " WHERE " + " AND ".join(clauses))

LOOKUP = {"docs": "https://docs.example.com/", "home": "/"}

@app.get("/u")
def users():
    return {"rows": Repo(sqlite3.connect("x.db")).find({"team": request.args["team"]})}

@app.get("/go")
def go():
    return redirect(LOOKUP.get(request.args["to"], "/"))

@app.get("/go2")
def go2():
    return redirect(LOOKUP.get(request.args["to"], request.args["to"]))
"""
)


def test_fields_dicts_lists_and_constant_tables(tmp_path: Path) -> None:
    result = _run(tmp_path, {"app.py": FIELDS_AND_CONTAINERS})
    text = FIELDS_AND_CONTAINERS
    assert _found(result) == {
        ("app.py", _line(text, "self.conn.execute"), "flow-sql-injection"),
        ("app.py", _line(text, 'request.args["to"], request'), "flow-open-redirect"),
    }
    assert ("app.py", _line(text, '"to"], "/"')) in _clean(
        result
    )  # a lookup in a constant table yields its values


GUARDS = (
    FLASK
    + """import os
from urllib.parse import urlparse

ALLOWED = {"light", "dark"}

@app.get("/t")
def theme():
    name = request.args["t"]
    if name not in ALLOWED:
        abort(400)
    return open(os.path.join("/themes", name)).read()

@app.get("/t2")
def theme2():
    name = request.args["t"]
    if name not in ALLOWED:
        name = "light"
    return open("/themes/" + name).read()

@app.get("/n")
def next_page():
    target = request.args.get("next", "/")
    if urlparse(target).netloc or not target.startswith("/"):
        return redirect("/")
    return redirect(target)

@app.get("/bad")
def bad():
    name = request.args["t"]
    if not name.endswith(".css"):
        abort(404)
    return open("/themes/" + name).read()
"""
)


def test_allow_lists_and_validators_refine_the_branch_that_passes(tmp_path: Path) -> None:
    result = _run(tmp_path, {"app.py": GUARDS})
    sinks = [n for n, line in enumerate(GUARDS.splitlines(), 1) if "open(" in line]
    redirect = _line(GUARDS, "return redirect(target)")
    # endswith checks nothing about the directory part
    assert _found(result) == {("app.py", sinks[-1], "flow-path-traversal")}
    assert {("app.py", sinks[0]), ("app.py", sinks[1]), ("app.py", redirect)} <= _clean(result)


def test_flows_across_modules_of_a_package(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/storage.py": "import os\n\n\ndef read(name):\n"
        "    return open(os.path.join('/d', name)).read()\n",
        "pkg/views.py": "from django.http import HttpResponse\n\nfrom .storage import read\n\n\n"
        "def show(request):\n"
        "    return HttpResponse(read(request.GET['f']), content_type='text/plain')\n",
    }
    expected = {("pkg/storage.py", 5, "flow-path-traversal")}
    assert _found(_run(tmp_path, files)) == expected
    # a review of the view alone still follows the import into the unchanged module
    assert _found(_run(tmp_path, {}, ["pkg/views.py"])) == expected


CONFIG = """from flask import Flask
from lxml import etree

OPTIONS = {"resolve_entities": True}
SESSION_COOKIE_SECURE = False


def create_app():
    app = Flask(__name__)
    app.config.update(SESSION_COOKIE_HTTPONLY=False)
    return app


def parse(request):
    return etree.fromstring(request.body, etree.XMLParser(**OPTIONS))


def parse_safe(request):
    return etree.fromstring(request.body, etree.XMLParser(resolve_entities=False))
"""


def test_settings_and_parser_options_resolved_through_constants(tmp_path: Path) -> None:
    result = _run(tmp_path, {"settings.py": "import django\n" + CONFIG})
    assert _found(result) == {
        ("settings.py", 6, "flow-cookie-insecure"),
        ("settings.py", 11, "flow-cookie-no-httponly"),
        ("settings.py", 16, "flow-xxe"),
    }
    assert ("settings.py", 20) in _clean(result)


RANDOM = """import random, secrets

def make_token():
    return "%032x" % random.getrandbits(128)

def shuffled(items):
    random.shuffle(items)
    return items

def jitter():
    return random.uniform(0, 1)

def good_token():
    return secrets.token_hex(16)
"""


def test_weak_random_only_where_it_becomes_a_secret(tmp_path: Path) -> None:
    assert _found(_run(tmp_path, {"r.py": RANDOM})) == {("r.py", 4, "flow-weak-random")}


def test_unknown_origins_are_neither_findings_nor_clean(tmp_path: Path) -> None:
    # nobody calls run(): its argument may come from anywhere, so the sink is not proven clean
    result = _run(tmp_path, {"lib.py": "import os\n\ndef run(cmd):\n    return os.system(cmd)\n"})
    assert result["findings"] == [] and result["clean"] == []


def test_syntax_errors_are_reported_and_the_rest_analysed(tmp_path: Path) -> None:
    result = _run(tmp_path, {"bad.py": "def (:\n", "app.py": HELPERS})
    assert any(e.startswith("bad.py") for e in result["errors"]) and result["complete"]
    assert len(result["findings"]) == 1


DJANGO_QUIET = """import re

from django.http import HttpResponsePermanentRedirect
from django.shortcuts import redirect
from django.urls import reverse

from .models import Page


def normalise(request):
    path = re.sub(r"/{2,}", "/", request.path)
    return HttpResponsePermanentRedirect(path)


def trim_index(request):
    return redirect(request.path[:-6])


def page(request, slug):
    return redirect(Page.objects.filter(slug=slug).first())


def search(request):
    return redirect(reverse("search") + "?q=%s" % request.GET.get("q", ""))


def stable(request, version):
    return redirect(request.get_full_path().replace(version, "5.0", 1))
"""


def test_local_paths_orm_rows_and_own_urls_are_not_open_redirects(tmp_path: Path) -> None:
    files = {"app/__init__.py": "", "app/models.py": "class Page:\n    pass\n"}
    result = _run(tmp_path, {**files, "app/views.py": DJANGO_QUIET})
    assert result["findings"] == []
    leaky = DJANGO_QUIET.replace('"5.0"', "request.GET['to']")
    assert _found(_run(tmp_path / "leaky", {**files, "app/views.py": leaky})) == {
        ("app/views.py", _line(leaky, "get_full_path"), "flow-open-redirect")
    }


def test_development_settings_may_turn_secure_cookies_off(tmp_path: Path) -> None:
    text = "SESSION_COOKIE_SECURE = False\n"
    result = _run(tmp_path, {"proj/settings/dev.py": text, "proj/settings/prod.py": text})
    assert _found(result) == {("proj/settings/prod.py", 1, "flow-cookie-insecure")}


def test_a_form_built_from_request_data_carries_it(tmp_path: Path) -> None:
    views = """import os

from django import forms


class RunForm(forms.Form):
    command = forms.CharField()


def run(request):
    form = RunForm(request.POST)
    if form.is_valid():
        os.system(form.cleaned_data["command"])
"""
    assert _found(_run(tmp_path, {"views.py": views})) == {
        ("views.py", _line(views, "os.system"), "flow-command-injection")
    }


SUMMARIES = (
    FLASK
    + """import pickle
from urllib.parse import urlsplit

from jinja2 import Environment

KNOWN = frozenset({"a", "b"})
env = Environment(autoescape=True)


def is_local(url):
    parts = urlsplit(url)
    return not parts.netloc and url.startswith("/")


class Snapshot:
    @classmethod
    def restore(cls, blob):
        return pickle.loads(blob)


@app.get("/back")
def back():
    target = request.args.get("to", "/")
    if not is_local(target):
        target = "/"
    return redirect(target)


@app.get("/pick")
def pick():
    name = request.args["n"]
    if name not in KNOWN:
        abort(404)
    return redirect("/" + name)


@app.post("/restore")
def restore():
    return {"ok": bool(Snapshot.restore(request.data))}


@app.post("/render")
def render():
    return env.from_string(request.form["tpl"]).render()
"""
)


def test_validators_by_summary_classmethods_and_template_environments(tmp_path: Path) -> None:
    result = _run(tmp_path, {"app.py": SUMMARIES})
    assert _found(result) == {
        ("app.py", _line(SUMMARIES, "pickle.loads"), "flow-unsafe-deserialization"),
        ("app.py", _line(SUMMARIES, "env.from_string"), "flow-template-injection"),
    }
    assert ("app.py", _line(SUMMARIES, "redirect(target)")) in _clean(result)


HASHES = """import hashlib


def password_digest(password, salt):
    return hashlib.md5(salt + password.encode()).hexdigest()


def avatar_url(email):
    return "https://www.gravatar.com/avatar/" + hashlib.md5(email.encode()).hexdigest()


def etag(body):
    return hashlib.sha1(body, usedforsecurity=False).hexdigest()
"""


def test_weak_hashes_are_judged_by_what_they_protect(tmp_path: Path) -> None:
    result = _run(tmp_path, {"h.py": HASHES})
    assert _found(result) == {("h.py", 5, "flow-weak-hash")}
    assert {("h.py", 9), ("h.py", 13)} <= _clean(result)  # bandit's notes there are dropped
