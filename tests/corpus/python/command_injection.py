"""OS command injection samples (py-command-injection)."""
import asyncio
import os
import shlex
import subprocess
import sys

from flask import Flask, request

app = Flask(__name__)


@app.route("/ping")
def ping():
    host = request.args.get("host", "localhost")
    # ruleid: py-command-injection
    os.system("ping -c 1 " + host)
    # ruleid: py-command-injection
    out = subprocess.check_output(f"ping -c 1 {host}", shell=True)
    # ok: py-command-injection
    safe = subprocess.check_output(["ping", "-c", "1", host])
    # ok: py-command-injection
    quoted = subprocess.run(f"ping -c 1 {shlex.quote(host)}", shell=True, check=True)
    return {"out": out.decode(), "safe": safe.decode(), "rc": quoted.returncode}


@app.route("/archive/<name>")
def archive(name):
    # ruleid: py-command-injection
    subprocess.run(["/bin/sh", "-c", "tar czf /tmp/out.tgz " + name], check=True)
    # ok: py-command-injection
    subprocess.run(["tar", "czf", "/tmp/out.tgz", "--", name], check=True)
    return "done"


@app.post("/convert")
def convert():
    fmt = request.form["format"]
    # ruleid: py-command-injection
    stream = os.popen("convert input.png output." + fmt)
    # ok: py-command-injection
    width = subprocess.run("identify -format %w input.png", shell=True, capture_output=True)
    return {"log": stream.read(), "width": width.stdout.decode()}


async def run_hook():
    hook = os.environ.get("POST_DEPLOY_HOOK", "true")
    # ruleid: py-command-injection
    proc = await asyncio.create_subprocess_shell(hook + " --notify")
    return await proc.wait()


def main():
    target = sys.argv[1]
    # ruleid: py-command-injection
    subprocess.call("git log --oneline " + target, shell=True)
    # ok: py-command-injection
    subprocess.call(["git", "log", "--oneline", target])
    # ok: py-command-injection
    subprocess.call(shlex.join(["git", "log", target]), shell=True)
    # ok: py-command-injection
    os.system("git gc --auto")
