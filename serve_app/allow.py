"""``Allow`` that matches the OpenAPI document: OPTIONS answers, 405s, static paths first.

Starlette's router names only the methods of the first route that matched the path in a 405 and
has no OPTIONS answer. Here OPTIONS answers 204 with every method of the path, a wrong method gets
405 problem+json with the same list. Like OpenAPI, a literal path wins over a template that also
matches it: ``GET /v1/plugins/sources`` is 405 (only POST is declared there), not a catalog lookup
of a plugin named "sources".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.routing import RouteContext, iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount, Route, compile_path
from starlette.types import Scope

from core.errors import MethodNotAllowed
from serve_app.problems import problem_response


def _matching(app: Any, scope: Scope) -> Iterator[RouteContext]:
    # A fresh scope: a Mount that already matched moved this request's root_path.
    probe = {
        "type": "http", "method": scope["method"], "path": scope["path"],
        "root_path": scope.get("app_root_path", scope.get("root_path", "")),
    }  # fmt: skip
    for context in iter_route_contexts(app.router.routes):
        match, _ = context.matches(probe)
        if match is not Match.NONE:
            yield context


def _methods(context: RouteContext) -> set[str]:
    if isinstance(context.original_route, Mount):
        return {"GET", "HEAD"}  # the docs' static assets
    if getattr(context.original_route, "endpoint", None) is _refuse:
        return set()  # a shadow guard takes no method
    return set(context.methods or ())


def allowed_methods(request: Request) -> list[str]:
    """Every method of the most literal path template matching this path, and OPTIONS."""
    matching = list(_matching(request.app, request.scope))
    if not matching:
        return ["OPTIONS"]
    fewest = min((c.path_format or "").count("{") for c in matching)
    methods = {"OPTIONS"}
    for context in matching:
        if (context.path_format or "").count("{") == fewest:
            methods |= _methods(context)
    return sorted(methods)


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    allow = ", ".join(allowed_methods(request))
    if request.method == "OPTIONS":
        return Response(status_code=204, headers={"Allow": allow})
    err = MethodNotAllowed(f"{request.method} is not allowed here", allow=allow)
    return problem_response(err, request)


async def _refuse(request: Request) -> Response:
    raise HTTPException(status_code=405)


def _shadow_guards(api: FastAPI) -> list[Route]:
    """Routes answering 405 where a template would take a method a literal path lacks."""
    contexts = [c for c in iter_route_contexts(api.routes) if c.path_format and c.methods]
    guards = []
    for literal in (c for c in contexts if "{" not in (c.path_format or "")):
        path = literal.path_format or ""
        own = set().union(*(c.methods or () for c in contexts if c.path_format == path))
        shadowing: set[str] = set()
        for template in (c for c in contexts if "{" in (c.path_format or "")):
            if compile_path(template.path_format or "")[0].match(path):
                shadowing |= set(template.methods or ()) - own
        if shadowing:
            guards.append(Route(path, _refuse, methods=sorted(shadowing), include_in_schema=False))
    return guards


def install_allow(api: FastAPI) -> None:
    """Full ``Allow`` on OPTIONS and 405 answers; literal paths shadow templates."""
    api.add_exception_handler(405, _method_not_allowed)
    # Ahead of every included router, so they are tried before the templates.
    api.router.routes[:0] = _shadow_guards(api)
