"""Smart HTTP git (clone, fetch, push) by delegating to the ``git http-backend`` CGI program."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import Request, Response

log = logging.getLogger(__name__)
PushCallback = Callable[[str], Awaitable[None]]
_FORWARDED = {
    "content-type": "CONTENT_TYPE",
    "git-protocol": "HTTP_GIT_PROTOCOL",
    "content-encoding": "HTTP_CONTENT_ENCODING",
}


def _parse_cgi(output: bytes) -> Response:
    head, sep, body = output.partition(b"\r\n\r\n")
    if not sep:
        head, _, body = output.partition(b"\n\n")
    status = 200
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split()[0])
        elif name:
            headers[name.strip()] = value.strip()
    headers.pop("Content-Length", None)  # Response sets the real one
    return Response(content=body, status_code=status, headers=headers)


async def serve_git(
    request: Request, project_root: Path, path_info: str, remote_user: str = ""
) -> Response:
    """Run ``git http-backend`` for ``path_info`` (e.g. ``/ws/repo.git/info/refs``) under root."""
    body = await request.body()
    env = {
        "GIT_PROJECT_ROOT": str(project_root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": path_info,
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": request.url.query,
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_USER": remote_user,
        "REMOTE_ADDR": request.client.host if request.client else "127.0.0.1",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
    }
    for header, variable in _FORWARDED.items():
        if header in request.headers:
            env[variable] = request.headers[header]
    # The body goes in as a file, not a pipe: http-backend may stop reading early (it answers an
    # error, or needs less than was sent), and a write to its closed pipe then failed the whole
    # request under uvloop instead of returning what git said.
    with tempfile.TemporaryFile() as stdin:
        stdin.write(body)
        stdin.seek(0)
        proc = await asyncio.create_subprocess_exec(
            "git",
            "http-backend",
            stdin=stdin,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        stdout, stderr = await proc.communicate()
    if proc.returncode != 0 and not stdout:
        log.warning(
            "git http-backend %s failed (%s): %s", path_info, proc.returncode, stderr[-500:]
        )
        return Response(stderr or b"git http-backend failed", status_code=500)
    return _parse_cgi(stdout)


def is_push(path_info: str) -> bool:
    """Whether a request path is the receive-pack (push) data request."""
    return path_info.endswith("/git-receive-pack")
