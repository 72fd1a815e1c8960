"""Token endpoints: Atlassian OAuth 2.0 (3LO, refresh) and Microsoft identity client credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse

from simulators.auth import AuthError, Principal, TokenIssuer, demo_account_id, require_auth
from simulators.config import SimulatorConfig

REFRESH_TTL_S = 90 * 24 * 3600
CODE_TTL_S = 600
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


async def _form_or_json(request: Request) -> dict[str, str]:
    # Atlassian documents a JSON body; OAuth libraries send a form. Both are accepted.
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.json()
        return {str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {}
    # Token requests are url-encoded forms; parsing them here avoids needing python-multipart.
    return dict(parse_qsl((await request.body()).decode()))


def _client_ok(config: SimulatorConfig, params: dict[str, str]) -> bool:
    return hmac.compare_digest(
        params.get("client_id", ""), config.oauth_client_id
    ) and hmac.compare_digest(params.get("client_secret", ""), config.oauth_client_secret)


@dataclass
class GrantState:
    """What signed tokens cannot carry: PKCE challenges and spent or revoked tokens."""

    challenges: dict[str, str] = field(default_factory=dict)  # code -> S256 code_challenge
    spent: set[str] = field(default_factory=set)  # used codes, rotated or revoked refresh tokens

    def spend(self, token: str) -> None:
        """Refuse ``token`` from now on (a code is single-use, a refresh token rotates)."""
        if token in self.spent:
            raise AuthError("token already used or revoked")
        self.spent.add(token)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _redeem(issuer: TokenIssuer, params: dict[str, str], state: GrantState) -> str:
    """Spend the code (PKCE-checked) or refresh token of ``params``; its scope, or ``AuthError``."""
    if params.get("grant_type") == "refresh_token":
        refresh = params.get("refresh_token", "")
        scope = issuer.verify(refresh, ["refresh"]).scope
        state.spend(refresh)  # rotating refresh tokens: each one is good for one refresh
        return scope
    code = params.get("code", "")
    scope = issuer.verify(code, ["code"]).scope
    challenge = state.challenges.get(code)
    verifier = params.get("code_verifier", "")
    if challenge is not None and not hmac.compare_digest(_s256(verifier), challenge):
        raise AuthError("PKCE code_verifier does not match the code_challenge")
    state.spend(code)
    state.challenges.pop(code, None)
    return scope


def _authorize_redirect(
    config: SimulatorConfig, state: GrantState, query: dict[str, str]
) -> RedirectResponse:
    """Consent is implicit: redirect straight back with a fresh single-use authorization code."""
    redirect_uri, challenge = query["redirect_uri"], query.get("code_challenge", "")
    if query.get("client_id") != config.oauth_client_id:
        return RedirectResponse(f"{redirect_uri}?{urlencode({'error': 'invalid_client'})}")
    if challenge and query.get("code_challenge_method") != "S256":
        error = {"error": "invalid_request", "state": query.get("state", "")}
        return RedirectResponse(f"{redirect_uri}?{urlencode(error)}")
    code = TokenIssuer(config).issue(
        "code", subject=demo_account_id(config), ttl_s=CODE_TTL_S, scope=query.get("scope", "")
    )
    if challenge:
        state.challenges[code] = challenge
    answer = {"code": code, "state": query.get("state", "")}
    return RedirectResponse(f"{redirect_uri}?{urlencode(answer)}")


def _grant(config: SimulatorConfig, params: dict[str, str], state: GrantState) -> dict[str, Any]:
    """Check one token request and return the token response; raises ``AuthError``."""
    issuer = TokenIssuer(config)
    grant = params.get("grant_type", "")
    scope = params.get("scope", "read:jira-work write:jira-work offline_access")
    if grant in ("authorization_code", "refresh_token"):
        scope = _redeem(issuer, params, state) or scope
    elif grant != "client_credentials":
        raise AuthError(f"unsupported grant_type {grant!r}")
    subject = demo_account_id(config)
    ttl = config.access_token_ttl_s
    body: dict[str, Any] = {
        "access_token": issuer.issue("atlassian", subject=subject, ttl_s=ttl, scope=scope),
        "expires_in": ttl,
        "token_type": "Bearer",
        "scope": scope,
    }
    if grant != "client_credentials":
        body["refresh_token"] = issuer.issue(
            "refresh", subject=subject, ttl_s=REFRESH_TTL_S, scope=scope
        )
    return body


def oauth_router(config: SimulatorConfig, grants: GrantState | None = None) -> APIRouter:
    """Atlassian's ``auth.atlassian.com`` and ``api.atlassian.com`` OAuth endpoints.

    Authorization codes are single-use and, when ``/authorize`` got a PKCE ``code_challenge``
    (S256 only), need the matching ``code_verifier``; refresh tokens rotate (each one refreshes
    once). ``POST /_sim/oauth`` with ``{"revoke_refresh_token": "..."}`` revokes one for tests.
    """
    router = APIRouter(tags=["oauth"])
    authenticated = Annotated[Principal, Depends(require_auth(config))]
    state_of_grants = grants if grants is not None else GrantState()

    @router.get("/authorize")
    async def authorize(
        client_id: str,
        redirect_uri: str,
        state: str = "",
        scope: str = "",
        code_challenge: str = "",
        code_challenge_method: str = "",
    ) -> RedirectResponse:
        """Consent is implicit: redirect straight back with a fresh authorization code."""
        query = {"client_id": client_id, "redirect_uri": redirect_uri, "state": state}
        query |= {"scope": scope, "code_challenge": code_challenge}
        query["code_challenge_method"] = code_challenge_method
        return _authorize_redirect(config, state_of_grants, query)

    @router.post("/_sim/oauth")
    async def control(request: Request) -> dict[str, bool]:
        """Test control: revoke a refresh token so the next refresh with it is refused."""
        body = await request.json()
        token = str(body.get("revoke_refresh_token", "")) if isinstance(body, dict) else ""
        if token:
            state_of_grants.spent.add(token)
        return {"revoked": bool(token)}

    @router.post("/oauth/token")
    async def token(request: Request) -> JSONResponse:
        """Exchange a code, a refresh token or client credentials for an access token."""
        params = await _form_or_json(request)
        if not _client_ok(config, params):
            return _oauth_error("invalid_client", "Unknown client or wrong secret", 401)
        try:
            return JSONResponse(_grant(config, params, state_of_grants))
        except AuthError as err:
            return _oauth_error("invalid_grant", err.message)

    @router.get("/oauth/token/accessible-resources")
    async def accessible_resources(
        principal: authenticated,
    ) -> list[dict[str, Any]]:
        """The one simulated site, as 3LO apps discover their cloud id."""
        return [
            {
                "id": "sim-cloud-id",
                "url": config.base_url,
                "name": "simulator",
                "scopes": ["read:jira-work", "write:jira-work", "read:confluence-content.all"],
                "avatarUrl": f"{config.base_url}/static/avatar.png",
            }
        ]

    return router


def microsoft_router(config: SimulatorConfig, grants: GrantState | None = None) -> APIRouter:
    """``login.microsoftonline.com``: authorization code (PKCE) + refresh, and client credentials.

    Every grant issues Microsoft Graph tokens; codes and refresh tokens behave as Atlassian's.
    """
    router = APIRouter(tags=["microsoft-identity"])
    state_of_grants = grants if grants is not None else GrantState()

    @router.get("/login/{tenant}/oauth2/v2.0/authorize")
    async def authorize(tenant: str, request: Request) -> RedirectResponse:
        """Consent is implicit: redirect straight back with a fresh authorization code."""
        query = dict(request.query_params)
        if "redirect_uri" not in query:
            return RedirectResponse("/?error=invalid_request")  # nowhere else to send it
        return _authorize_redirect(config, state_of_grants, query)

    @router.post("/login/{tenant}/oauth2/v2.0/token")
    async def token(tenant: str, request: Request) -> JSONResponse:
        """Issue a Graph access token for a code, a refresh token or client credentials."""
        params = await _form_or_json(request)
        grant = params.get("grant_type")
        if grant not in ("client_credentials", "authorization_code", "refresh_token"):
            return _oauth_error("unsupported_grant_type", "AADSTS70003: grant type not supported")
        if not _client_ok(config, params):
            return _oauth_error("invalid_client", "AADSTS7000215: Invalid client secret", 401)
        ttl = config.access_token_ttl_s
        body: dict[str, Any] = {"token_type": "Bearer", "expires_in": ttl, "ext_expires_in": ttl}
        issuer = TokenIssuer(config)
        if grant == "client_credentials":
            if params.get("scope", "") != GRAPH_SCOPE:
                return _oauth_error("invalid_scope", "AADSTS1002012: scope must end with /.default")
            issued = issuer.issue(
                "graph", subject=params["client_id"], ttl_s=ttl, scope=GRAPH_SCOPE
            )
            return JSONResponse({**body, "access_token": issued})
        try:
            scope = _redeem(issuer, params, state_of_grants) or params.get("scope", "")
        except AuthError as err:
            return _oauth_error("invalid_grant", "AADSTS70008: " + err.message)
        subject = demo_account_id(config)
        body["access_token"] = issuer.issue("graph", subject=subject, ttl_s=ttl, scope=scope)
        body["refresh_token"] = issuer.issue(
            "refresh", subject=subject, ttl_s=REFRESH_TTL_S, scope=scope
        )
        return JSONResponse({**body, "scope": scope})

    return router
