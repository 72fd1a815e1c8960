"""An OpenAPI document that tells the truth, offline docs, and full ``Allow`` answers.

FastAPI generates the document from the routes; ``refine`` then adds what it cannot know: the
bearer schemes and which operations need them, every status an operation really answers as
``application/problem+json`` (RFC 9457 plus our ``code``), the webhook's raw JSON body. Statuses
are derived from each route's auth dependencies, parameters and body, plus ``EXTRA_STATUSES`` for
what only the handlers know; a route's own ``responses=`` entries are kept.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from core.errors import PROBLEM_TYPE_BASE
from serve_app.allow import install_allow
from serve_app.docs_ui import install_docs
from serve_app.problems import PROBLEM_JSON
from serve_app.routers.auth import operator, principal, tenant_scope
from serve_app.routers.webhooks import INGEST_PATH

TENANT_SCHEME, OPERATOR_SCHEME = "tenantKey", "operatorKey"
_REF = "#/components/schemas/"

PROBLEM: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details plus a stable `code`; some codes add members "
    "(`errors` on 422, `retry_after` on 429, `allow` on 405).",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "description": f"{PROBLEM_TYPE_BASE}<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "the request path"},
        "code": {"type": "string", "description": "stable machine-readable error code"},
    },
    "additionalProperties": True,
}
VALIDATION_PROBLEM: dict[str, Any] = {
    "allOf": [{"$ref": _REF + "Problem"}],
    "type": "object",
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "pointer": {"type": "string", "description": "JSON pointer into the body"},
                    "location": {"type": "string"},
                    "detail": {"type": "string"},
                },
                "additionalProperties": True,
            },
        }
    },
}
WEBHOOK_ACCEPTED: dict[str, Any] = {
    "type": "object",
    "required": ["delivery_id", "duplicate"],
    "properties": {"delivery_id": {"type": "string"}, "duplicate": {"type": "boolean"}},
}
READINESS: dict[str, Any] = {
    "type": "object",
    "required": ["status", "components"],
    "properties": {
        "status": {"type": "string", "enum": ["ready", "unavailable"]},
        "components": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}

STATUS_TEXT = {
    400: "malformed request: a NUL byte in the URL, or a body that is not parseable JSON",
    401: "missing, unknown or revoked key",
    403: "the key may not do this (operator only, or a feature flag is off)",
    404: "no such resource, or it belongs to another tenant",
    409: "conflicts with the current state",
    413: "request body too large",
    415: "unsupported Content-Type",
    422: "the request did not validate; `errors` lists each field",
    429: "rate limited; see Retry-After",
    502: "the plugin's hook failed",
    503: "a backing service or the plugin is unavailable; retry later",
}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_HOOK = {409, 502, 503}  # lifecycle changes run a plugin hook (state checked first)
EXTRA_STATUSES: dict[tuple[str, str], set[int]] = {
    ("POST", "/v1/tenants"): {409},
    ("DELETE", "/v1/tenants/{tenant}"): {403},
    ("POST", "/v1/tenants/{tenant}/plugins"): {404, 409, 502, 503},
    ("PATCH", "/v1/tenants/{tenant}/plugins/{instance}"): _HOOK,
    ("DELETE", "/v1/tenants/{tenant}/plugins/{instance}"): _HOOK,
    ("POST", "/v1/tenants/{tenant}/plugins/{instance}/enable"): {403, *_HOOK},
    ("POST", "/v1/tenants/{tenant}/plugins/{instance}/disable"): _HOOK,
    ("POST", "/v1/tenants/{tenant}/plugins/{instance}/upgrade"): _HOOK,
    ("POST", "/v1/tenants/{tenant}/dead-letters/{id}/replay"): {409},
    ("POST", "/v1/tenants/{tenant}/jobs/{job_id}/cancel"): {409},
    ("PUT", "/v1/tenants/{tenant}/plugins/{instance}/auth"): {409},  # a kind the plugin lacks
    ("POST", "/v1/tenants/{tenant}/plugins/{instance}/oauth/start"): {409},
    # no key: the signed state authenticates; the token endpoint may refuse (502) or be down (503)
    ("GET", "/v1/oauth/callback"): {404, 409, 502, 503},
    ("POST", INGEST_PATH): {401, 404, 409, 413, 415, 422, 429, 503},
}
TEXT_RULE = (
    "\n\nNo string of a request may hold NUL (`\\u0000`) or an unpaired surrogate "
    "(PostgreSQL stores neither): 400 in the URL, 422 naming the field in a JSON body."
)
# serve_app/problems.py sets these: every 401 names its scheme, every rate limit its wait (a 503
# too when the webhook ingest sheds load).
_HEADERS = {
    401: ("WWW-Authenticate", True, "Bearer, or Webhook-Signature on the webhook route"),
    429: ("Retry-After", True, "seconds to wait"),
    503: ("Retry-After", False, "seconds to wait, when the replica sheds load"),
}
# Request bodies Swagger UI pre-fills (and schemathesis' examples phase sends): the README's.
EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/tenants"): {"id": "acme", "name": "Acme"},
    ("POST", "/v1/tenants/{tenant}/plugins"): {
        "plugin": "generic-webhook", "name": "ci", "config": {"event_type": "generic.build"},
        "secrets": {"signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
    },
    ("PATCH", "/v1/tenants/{tenant}/plugins/{instance}"): {
        "config": {"event_type": "generic.deploy"},
    },
    ("PUT", "/v1/tenants/{tenant}/llm"): {
        "model": "anthropic/claude-3-5-haiku-20241022", "api_key": "sk-ant-example",
    },
}  # fmt: skip
# Scoped to the tenant first (another tenant's key gets 404), then the handler wants the operator.
OPERATOR_ONLY = {("DELETE", "/v1/tenants/{tenant}")}
WEBHOOK_DESCRIPTION = (
    "Authenticated by the signature scheme of the instance's plugin, verified on the raw body "
    "(no bearer key): **standard-webhooks** (`webhook-id`, `webhook-timestamp`, "
    "`webhook-signature: v1,<base64 HMAC-SHA256>`), **atlassian-hmac** "
    "(`X-Hub-Signature: sha256=<hex>`), **connect-jwt** (`Authorization: JWT <token>` with the "
    "query string hash). The body is any JSON document (`Content-Type: application/json` or "
    "`*+json`). Repeats (same delivery id, or the same body when the sender has none) answer "
    "200 and are not processed again."
)


def _calls(dependant: Dependant) -> set[Any]:
    found: set[Any] = set()
    for dep in dependant.dependencies:
        found.add(dep.call)
        found |= _calls(dep)
    return found


def _security(path: str, method: str, calls: set[Any]) -> list[dict[str, list[str]]] | None:
    if operator in calls or (method, path) in OPERATOR_ONLY:
        return [{OPERATOR_SCHEME: []}]
    if principal in calls:
        return [{TENANT_SCHEME: []}, {OPERATOR_SCHEME: []}]
    return None


def _statuses(route: APIRoute, path: str, method: str) -> set[int]:
    calls = _calls(route.dependant)
    # Every request: a NUL byte in the URL is refused with 400 before routing (serve_app/guard).
    found = {400, *EXTRA_STATUSES.get((method, path), set())}
    if principal in calls:
        found |= {401, 503}
    if operator in calls:
        found.add(403)
    if tenant_scope in calls or any(p.name != "tenant" for p in route.dependant.path_params):
        found.add(404)
    if method in _BODY_METHODS or route.body_field is not None:
        found |= {413, 422}  # the guard reads and strictly parses every body (size, NUL)
    if route.dependant.query_params or route.dependant.header_params:
        found.add(422)  # typed parameters (path parameters are plain strings)
    return found


def _problem_response(status: int, description: str | None) -> dict[str, Any]:
    schema = "ValidationProblem" if status == 422 else "Problem"
    response: dict[str, Any] = {
        "description": description or STATUS_TEXT.get(status, "error"),
        "content": {PROBLEM_JSON: {"schema": {"$ref": _REF + schema}}},
    }
    header = _HEADERS.get(status)
    if header:
        name, required, description = header
        response["headers"] = {
            name: {"required": required, "description": description, "schema": {"type": "string"}}
        }
    return response


def _refine_operation(route: APIRoute, path: str, method: str, operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    generated = responses.get("422", {}).get("content", {}).get("application/json", {})
    if generated.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
        del responses["422"]  # FastAPI's own: application/json HTTPValidationError, never sent
    declared = {int(s) for s in responses if s[:1] in ("4", "5") and s.isdigit()}
    for status in sorted(declared | _statuses(route, path, method)):
        previous = responses.get(str(status), {})
        responses[str(status)] = _problem_response(status, previous.get("description"))
    operation["responses"] = dict(sorted(responses.items()))
    example = EXAMPLES.get((method, path))
    if example is not None:
        operation["requestBody"]["content"]["application/json"]["example"] = example
    security = _security(path, method, _calls(route.dependant))
    if security:
        operation["security"] = security
    if path == INGEST_PATH:
        ok = {"application/json": {"schema": {"$ref": _REF + "WebhookAccepted"}}}
        for accepted in ("200", "202"):
            operation["responses"][accepted]["content"] = ok
        operation["description"] = WEBHOOK_DESCRIPTION
        operation["requestBody"] = {
            "required": True,
            "description": "any JSON document; the raw bytes are what the signature covers",
            "content": {"application/json": {"schema": {}}},
        }


def refine(schema: dict[str, Any], api: FastAPI) -> dict[str, Any]:
    """Add security, problem+json statuses and the webhook body to FastAPI's document."""
    schema["info"]["description"] = schema["info"].get("description", "") + TEXT_RULE
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas.update(
        Problem=PROBLEM, ValidationProblem=VALIDATION_PROBLEM,
        WebhookAccepted=WEBHOOK_ACCEPTED, Readiness=READINESS,
    )  # fmt: skip
    components["securitySchemes"] = {
        TENANT_SCHEME: {"type": "http", "scheme": "bearer", "bearerFormat": "dck_…",
                        "description": "a tenant's API key (shown once when issued)"},
        OPERATOR_SCHEME: {"type": "http", "scheme": "bearer",
                          "description": "the operator key (DCODER_OPERATOR_KEY)"},
    }  # fmt: skip
    # FastAPI keeps included routers nested: iter_route_contexts yields each route with its path.
    for context in iter_route_contexts(api.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in sorted(route.methods or ()):
            operation = schema["paths"].get(context.path_format, {}).get(method.lower())
            if operation is not None:
                _refine_operation(route, context.path_format or "", method, operation)
    metrics = schema["paths"].get("/metrics", {}).get("get")
    if metrics:  # Prometheus text exposition format
        metrics["responses"]["200"]["content"] = {"text/plain": {"schema": {"type": "string"}}}
    readyz = schema["paths"].get("/readyz", {}).get("get")
    if readyz:
        body = {"application/json": {"schema": {"$ref": _REF + "Readiness"}}}
        for status in ("200", "503"):
            readyz["responses"].setdefault(status, {"description": "readiness"})["content"] = body
    return schema


def install_openapi(api: FastAPI) -> FastAPI:
    """Refine the document, serve the docs offline, make ``Allow`` answers match the document."""
    install_docs(api)
    install_allow(api)
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = refine(generate(), api)
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
    return api
