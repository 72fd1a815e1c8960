"""``up``, ``down``, ``status`` and ``migrate``: run the service on this machine."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from core.settings import Settings


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the runtime subcommands."""
    up = subparsers.add_parser("up", help="start the service (and embedded servers, Ray) locally")
    up.add_argument("--timeout", type=float, default=240.0, help="seconds to wait for /readyz")
    up.set_defaults(func=cmd_up)
    down = subparsers.add_parser("down", help="stop everything `up` started (by pid)")
    down.set_defaults(func=cmd_down)
    status = subparsers.add_parser("status", help="show what is running and whether it is ready")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(func=cmd_status)
    migrate = subparsers.add_parser("migrate", help="apply database migrations and create streams")
    migrate.set_defaults(func=cmd_migrate)


def _settings() -> Settings:
    from core.errors import SettingsError
    from core.settings import load_settings

    try:
        return load_settings()
    except SettingsError as err:
        print(err.detail, file=sys.stderr)
        raise SystemExit(2) from err


def _say(message: str) -> None:
    print(message, flush=True)


def cmd_up(args: argparse.Namespace) -> int:
    """Start backing services, migrate, start Ray, deploy Serve, wait until ready."""
    from serve_app.launcher import backing, data_plane, deploy, ray_head
    from serve_app.launcher.keys import ensure_keys

    settings = _settings()
    started = time.monotonic()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    found = backing.start_backing(settings)
    _say(f"nats      {_hide_password(found.nats_url)}{' (embedded)' if found.nats else ''}")
    _say(f"postgres  {_hide_password(found.database_url)}{' (embedded)' if found.postgres else ''}")
    migrations, streams = backing.migrate_and_declare(settings)
    _say(f"migrate   applied {migrations or 'nothing new'}; streams changed {streams or 'none'}")
    for line in ensure_keys(settings):
        _say(line)
    env = {
        "DCODER_NATS_URL": found.nats_url,
        "DCODER_DATABASE_URL": found.database_url,
        "DCODER_DATA_DIR": str(settings.data_dir),
    }
    if not settings.ray.address:
        env.update(data_plane.serve_env(settings))
    address = settings.ray.address or ray_head.start_head(settings, env)
    _say(f"ray       {address}{'' if settings.ray.address else ' (local head)'}")
    if not settings.ray.address:
        _say(f"http      {settings.http.data_plane} data plane")
    submitted = deploy.deploy(settings)
    ready = deploy.wait_ready(settings, submitted, args.timeout)
    api = deploy.api_url(settings)
    _say(f"ready     {json.dumps(ready['components'])} in {time.monotonic() - started:.1f}s")
    _say(f"\nAPI        {api}\nOpenAPI    {api}/docs  ({api}/openapi.json)")
    _say(f"Dashboard  {deploy.dashboard_url(settings)}\nStop with  make stop")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    """Stop the local Ray head and the embedded servers that `up` started."""
    from serve_app.launcher import backing, data_plane, ray_head

    settings = _settings()
    count = 0 if settings.ray.address else ray_head.stop_head(settings)
    if not settings.ray.address:
        data_plane.cleanup(settings)
    _say(f"ray       stopped {count} processes of the local head")
    stopped = backing.stop_backing(settings)
    _say(f"embedded  stopped {', '.join(stopped) or 'nothing (none running)'}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Report processes and readiness; exit 0 only when the service is ready."""
    import httpx

    from serve_app.launcher import backing, deploy, ray_head

    settings = _settings()
    nats, pg = backing.embedded_servers(settings)
    report: dict[str, Any] = {
        "embedded_nats": None if nats is None else {"running": nats.running(), "pid": nats.pid},
        "embedded_postgres": None if pg is None else {"running": pg.running(), "pid": pg.pid},
        "ray_head_processes": None if settings.ray.address else len(ray_head.head_pids(settings)),
        "api": deploy.api_url(settings),
    }
    try:
        response = httpx.get(f"{report['api']}/readyz", timeout=5.0)
        report["ready"] = response.status_code == 200
        report["components"] = response.json().get("components")
    except (httpx.HTTPError, ValueError) as err:
        report["ready"] = False
        report["components"] = f"API not answering: {err!r}"
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            _say(f"{key:20} {value}")
    return 0 if report["ready"] else 1


def cmd_migrate(args: argparse.Namespace) -> int:
    """Apply pending migrations (starting the embedded PostgreSQL if it is used)."""
    from serve_app.launcher import backing

    settings = _settings()
    backing.start_backing(settings)
    migrations, streams = backing.migrate_and_declare(settings)
    _say(f"applied migrations: {migrations or 'none pending'}")
    _say(f"streams created or updated: {streams or 'none'}")
    return 0


def _hide_password(url: str) -> str:
    from core.logging import redact_text

    return redact_text(url)
