# case: vulnerable CWE-78
# A repository browser: the branch from the query string lands in a list, then in a shell command.
import subprocess

from flask import Flask, request

app = Flask(__name__)
REPO_ROOT = "/srv/git/site.git"


def git_command(*args):
    pieces = ["git", "--git-dir", REPO_ROOT]
    pieces.extend(args)
    return " ".join(pieces)


@app.get("/log")
def branch_log():
    refs = [request.args.get("branch", "main")]
    shell_line = git_command("log", "--oneline", "-n", "20", refs[0])
    out = subprocess.check_output(shell_line, shell=True, text=True)
    return "<pre>%s</pre>" % out.replace("<", "&lt;")
