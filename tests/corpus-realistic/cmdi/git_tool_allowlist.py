# case: safe CWE-78
# The branch must be one of the known branches before it reaches the shell command.
import subprocess

from flask import Flask, abort, request

app = Flask(__name__)
REPO_ROOT = "/srv/git/site.git"
KNOWN_BRANCHES = {"main", "develop", "release"}


def git_command(*args):
    pieces = ["git", "--git-dir", REPO_ROOT]
    pieces.extend(args)
    return " ".join(pieces)


def checked_branch(name):
    if name not in KNOWN_BRANCHES:
        abort(400)
    return name


@app.get("/log")
def branch_log():
    branch = checked_branch(request.args.get("branch", "main"))
    shell_line = git_command("log", "--oneline", "-n", "20", branch)
    out = subprocess.check_output(shell_line, shell=True, text=True)
    return "<pre>%s</pre>" % out.replace("<", "&lt;")
