"""An instance's credentials and the OAuth 2.0 install flow (authorization code with PKCE).

``PUT …/{instance}/auth`` sets the kind and its values (API token, PAT, OAuth client id and
secret); nothing set there is ever returned. ``POST …/{instance}/oauth/start`` answers the
provider's authorize URL with a signed, single-use ``state`` bound to tenant and instance;
``GET /v1/oauth/callback`` is where the provider sends the browser back: it needs no API key
(the state authenticates it), exchanges the code and resumes an instance in ``needs_reauth``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from core.errors import ClientError
from core.keys import secrets_keys
from core.oauth import AuthConfigInput, AuthStatus
from core.oauth_state import StateSigner
from core.settings import Settings
from serve_app.routers.auth import TenantDep
from serve_app.routers.deps import services
from serve_app.services import Services

router = APIRouter(tags=["credentials"])
ServicesDep = Annotated[Services, Depends(services)]
CALLBACK_PATH = "/v1/oauth/callback"
_INSTANCE = "/v1/tenants/{tenant}/plugins/{instance}"


class OAuthDenied(ClientError):
    """The provider sent the browser back with an error instead of a code."""

    code = "oauth-denied"
    status = 400
    title = "Authorization denied"


class OAuthStarted(BaseModel):
    authorize_url: str = Field(description="send the user's browser here")
    expires_at: str = Field(description="the authorization must finish before this")


_signers: dict[int, StateSigner] = {}


def _signer(settings: Settings) -> StateSigner:
    """The replica's state signer (keys read once per settings object)."""
    if id(settings) not in _signers:
        _signers[id(settings)] = StateSigner(secrets_keys(settings, create=False))
    return _signers[id(settings)]


def redirect_uri(settings: Settings, request: Request) -> str:
    """The callback URL providers send the browser back to."""
    base = settings.oauth.public_url or str(request.base_url)
    return base.rstrip("/") + CALLBACK_PATH


@router.put(_INSTANCE + "/auth", summary="Set the instance's credentials (never returned)")
async def configure_auth(
    tenant: str, instance: str, body: AuthConfigInput, who: TenantDep, svc: ServicesDep
) -> AuthStatus:
    return await svc.hosts.configure_auth(tenant, instance, body, who.actor)


@router.get(_INSTANCE + "/auth", summary="The instance's auth kind and status (no values)")
async def auth_status(tenant: str, instance: str, who: TenantDep, svc: ServicesDep) -> AuthStatus:
    return await svc.hosts.auth_status(tenant, instance)


@router.post(_INSTANCE + "/oauth/start", summary="Start the OAuth authorization (PKCE)")
async def oauth_start(
    tenant: str, instance: str, request: Request, who: TenantDep, svc: ServicesDep
) -> OAuthStarted:
    started = await svc.hosts.oauth_start(
        tenant, instance, redirect_uri(svc.settings, request), who.actor
    )
    return OAuthStarted(**started)


@router.get(CALLBACK_PATH, summary="Where the provider redirects after consent")
async def oauth_callback(
    svc: ServicesDep,
    state: str = "",
    code: str = "",
    error: str = "",
    error_description: str = "",
) -> AuthStatus:
    if error:
        raise OAuthDenied(f"the provider answered {error}: {error_description}"[:300])
    verified = _signer(svc.settings).verify(state)  # 400 before any tenant is touched
    if not code:
        raise OAuthDenied("the provider sent no authorization code")
    return await svc.hosts.oauth_complete(verified.tenant_id, state, code)
