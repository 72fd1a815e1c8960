"""``dcoder-integrations simulate``: every Atlassian / Graph simulator on one port."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``simulate`` subcommand."""
    parser = subparsers.add_parser(
        "simulate", help="run the local Jira, Confluence, Bitbucket and Graph simulators"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8900, help="port to listen on")
    parser.add_argument("--user", default="demo@example.com", help="demo user (basic auth)")
    parser.add_argument("--token", default="demo-token", help="demo API token (basic auth)")
    parser.add_argument("--base-url", help="public URL (default http://HOST:PORT)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".data/simulators"),
        help="where git repositories are kept",
    )
    parser.add_argument(
        "--seed",
        type=Path,
        metavar="CSV",
        help="load the demo tenant; CSV = story-points file, e.g. mesos.csv",
    )
    parser.add_argument("--seed-limit", type=int, default=300, help="stories taken from the CSV")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the combined app, seed it if asked, and serve it until interrupted."""
    import uvicorn
    from starlette.routing import Mount

    from simulators.app import create_app
    from simulators.config import SimulatorConfig
    from simulators.seed import seed_all

    if args.seed is not None and not args.seed.is_file():
        print(f"--seed: no such file {args.seed}")
        return 2
    config = SimulatorConfig.model_validate(
        {
            "base_url": args.base_url or f"http://{args.host}:{args.port}",
            "user_email": args.user,
            "api_token": args.token,
            "data_dir": args.data_dir,
        }
    )
    app = create_app(config)
    if args.seed is not None:
        report = seed_all(app, args.seed, args.seed_limit)
        print(f"seeded: {report}")
    mounts = " ".join(r.path for r in app.routes if isinstance(r, Mount))
    print(f"simulators on {config.base_url}: {mounts}")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
