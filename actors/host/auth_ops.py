"""A tenant runtime's credential operations: configure auth, the OAuth install flow, needs_reauth.

``TenantRuntime`` mixes this in. A refused credential (a refresh answered ``invalid_grant``, a
hook raising ``PluginAuthFailed``, or a job failing so in its worker: ``job_auth_refused``)
moves an enabled instance to ``needs_reauth``; the relay then keeps its deliveries
(``core.oauth_held``) instead of attempting them. A new authorization (the
OAuth callback, or a new API token / PAT / client secret) moves it back to ``enabled`` and
republishes every kept delivery, in the transaction that changes the state.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

import httpx

from core.credentials import Credential
from core.errors import (
    Conflict,
    IntegrationsError,
    NotFound,
    PluginAuthFailed,
    PluginConfigInvalid,
)
from core.jobs.store import JobStore
from core.oauth import (
    AuthConfigInput,
    AuthStatus,
    CredentialsRefused,
    GrantRefused,
    InstanceNeedsReauth,
    TokenEndpoint,
    request_token,
    token_credential,
)
from core.oauth_state import OAuthStateInvalid, pkce_challenge
from plugin_sdk.auth_kinds import AuthKind, render_url
from plugin_sdk.events import Event
from plugin_sdk.jobs import JobOutcome
from plugin_sdk.lifecycle import InstanceState, check_transition

if TYPE_CHECKING:
    import asyncio

    from actors.host.services import HostServices
    from actors.host.tenant import LiveInstance

log = logging.getLogger(__name__)
T = TypeVar("T")
_CODE = AuthKind.OAUTH2_AUTHORIZATION_CODE.value


async def _setup_grant(
    http: httpx.AsyncClient, endpoint: TokenEndpoint, form: dict[str, str]
) -> dict[str, Any]:
    """A token request made while the tenant sets up auth: a refusal is the tenant's 400."""
    try:
        return await request_token(http, endpoint, form)
    except CredentialsRefused as err:
        raise GrantRefused(err.detail, **err.extra) from err


class AuthOps:
    """Credential operations of one tenant's runtime (mixed into ``TenantRuntime``)."""

    if TYPE_CHECKING:  # provided by TenantRuntime
        tenant_id: str
        svc: HostServices
        lock: asyncio.Lock

        async def _load(self, instance_id: str) -> LiveInstance: ...

        async def _audit(
            self, conn: Any, actor: str, action: str, target: str, **details: Any
        ) -> Any: ...

        def _instances_changed(self) -> None: ...

        async def _hook(self, what: str, awaitable: Awaitable[T]) -> T: ...

    def _check_work(self, live: LiveInstance, hook: str) -> None:
        """Refuse work of an instance that waits for re-authorization (the relay keeps it)."""
        if live.record.state == InstanceState.NEEDS_REAUTH:
            raise InstanceNeedsReauth(
                f"instance {live.record.id} needs re-authorization: {live.record.state_detail}"
            )
        check_transition(InstanceState(live.record.state), hook)

    async def _work(self, live: LiveInstance, what: str, awaitable: Awaitable[T]) -> T:
        """A work hook; refused credentials move the instance to ``needs_reauth`` first."""
        try:
            return await self._hook(what, awaitable)
        except PluginAuthFailed as err:
            await self.auth_refused(live.record.id, err)
            raise

    async def auth_status(self, instance_id: str) -> AuthStatus:
        """What is configured (never a value), and how many deliveries wait."""
        live = await self._load(instance_id)
        credential = await self.svc.credentials.get(self.tenant_id, instance_id)
        values = {} if credential is None else credential.values
        return AuthStatus(
            kinds=[a.kind.value for a in live.entry.manifest.auth],
            kind=None if credential is None else credential.kind,
            authorized=bool(values.get("access_token") or values.get("token")),
            expires_at=None if credential is None else credential.expires_at,
            state=live.record.state,
            held_deliveries=await self.svc.held.count(self.tenant_id, instance_id),
        )

    async def configure_auth(
        self, instance_id: str, request: AuthConfigInput, actor: str
    ) -> AuthStatus:
        """Store the instance's credential; a usable one resumes a ``needs_reauth`` instance."""
        live = await self._load(instance_id)
        spec = live.entry.manifest.auth_spec(request.kind)
        if spec is None:
            kinds = [a.kind.value for a in live.entry.manifest.auth] or "none"
            raise Conflict(f"plugin {live.record.plugin!r} supports auth kinds {kinds}")
        credential = Credential(request.kind, request.values())
        if request.kind == AuthKind.OAUTH2_CLIENT_CREDENTIALS.value:
            # fetch a token now, so a wrong secret is refused here and not at the first delivery
            manager = self.svc.token_manager(
                self.tenant_id, instance_id, live.entry.manifest, live.record.config
            )
            endpoint = manager.endpoints.get(request.kind)
            if endpoint is None:
                raise PluginConfigInvalid("the token endpoint needs config values that are unset")
            form = {**request.values(), "grant_type": "client_credentials",
                    "scope": " ".join(endpoint.scopes)}  # fmt: skip
            answer = await _setup_grant(manager.http, endpoint, form)
            credential = token_credential(request.kind, request.values(), answer)
        usable = request.kind != _CODE
        await self._store_credential(live, credential, actor, resume=usable)
        return await self.auth_status(instance_id)

    async def oauth_start(self, instance_id: str, redirect_uri: str, actor: str) -> dict[str, Any]:
        """A signed, single-use state and the provider's authorize URL (PKCE S256)."""
        live = await self._load(instance_id)
        spec = live.entry.manifest.auth_spec(_CODE)
        credential = await self.svc.credentials.get(self.tenant_id, instance_id)
        if spec is None or spec.authorize_url is None:
            raise Conflict(f"plugin {live.record.plugin!r} has no OAuth authorization code flow")
        if credential is None or credential.kind != _CODE:
            raise Conflict(
                f"configure the instance's auth first: PUT …/auth with kind {_CODE!r},"
                " client_id and client_secret"
            )
        ttl = self.svc.settings.oauth.state_ttl_s
        text, state = self.svc.state_signer.issue(self.tenant_id, instance_id, ttl)
        await self.svc.oauth_states.record(state, redirect_uri)
        query = {
            "response_type": "code", "client_id": credential.values.get("client_id", ""),
            "redirect_uri": redirect_uri, "scope": " ".join(spec.scopes), "state": text,
            "code_challenge": pkce_challenge(state.verifier), "code_challenge_method": "S256",
            **spec.authorize_params,
        }  # fmt: skip
        url = render_url(spec.authorize_url, live.record.config) + "?" + urlencode(query)
        await self._audit_now(actor, "instance.oauth_start", instance_id)
        return {"authorize_url": url, "expires_at": state.expires_at.isoformat()}

    async def oauth_complete(self, state: str, code: str) -> AuthStatus:
        """Exchange the code of a verified, unused state; store the tokens; resume the instance."""
        verified = self.svc.state_signer.verify(state)
        if verified.tenant_id != self.tenant_id:
            raise OAuthStateInvalid("the OAuth state belongs to another tenant")
        redirect_uri = await self.svc.oauth_states.spend(verified)
        live = await self._load(verified.instance_id)
        current = await self.svc.credentials.get(self.tenant_id, verified.instance_id)
        if current is None or current.kind != _CODE:
            raise Conflict("the instance's auth was changed during the authorization")
        base = {k: current.values[k] for k in ("client_id", "client_secret") if k in current.values}
        manager = self.svc.token_manager(
            self.tenant_id, verified.instance_id, live.entry.manifest, live.record.config
        )
        form = {**base, "grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri, "code_verifier": verified.verifier}  # fmt: skip
        endpoint = manager.endpoints.get(_CODE)
        if endpoint is None:
            raise PluginConfigInvalid("the token endpoint needs config values that are unset")
        answer = await _setup_grant(manager.http, endpoint, form)
        credential = token_credential(_CODE, base, answer)
        await self._store_credential(live, credential, "oauth-callback", resume=True)
        return await self.auth_status(verified.instance_id)

    async def _store_credential(
        self, live: LiveInstance, credential: Credential, actor: str, *, resume: bool
    ) -> None:
        instance_id = live.record.id
        async with self.svc.db.transaction() as conn:
            await self.svc.credentials.put(self.tenant_id, instance_id, credential, conn=conn)
            state = InstanceState(live.record.state)
            if resume and state is InstanceState.NEEDS_REAUTH:
                live.record = await self.svc.instances.update(
                    conn, self.tenant_id, instance_id,
                    state=check_transition(state, "reauthorized").value, state_detail=None,
                )  # fmt: skip
            held = []
            # kept deliveries go back only to an enabled instance (a disabled one keeps them)
            if resume and live.record.state == InstanceState.ENABLED:
                held = await self.svc.held.take_all(conn, self.tenant_id, instance_id)
                for item in held:  # republished before the rows go: a failure keeps them
                    await self.svc.bus.publish(
                        item.subject, item.payload, headers=item.headers, msg_id=f"held:{item.id}"
                    )
            audit = await self._audit(
                conn, actor, "instance.credentials", instance_id, kind=credential.kind,
                resumed=resume and state is InstanceState.NEEDS_REAUTH, republished=len(held),
            )  # fmt: skip
        self.svc.forget_tokens(self.tenant_id, instance_id)
        self._instances_changed()
        await self.svc.audit.publish(audit)

    async def auth_refused(self, instance_id: str, err: IntegrationsError) -> None:
        """Credentials were refused: an enabled instance goes to ``needs_reauth`` (audited)."""
        if isinstance(err, InstanceNeedsReauth):
            return
        async with self.lock:
            live = await self._load(instance_id)
            if live.record.state != InstanceState.ENABLED:
                return
            state = check_transition(InstanceState.ENABLED, "auth_refused")
            reason = f"{err.code}: {err.detail}"[:500]
            async with self.svc.db.transaction() as conn:
                live.record = await self.svc.instances.update(
                    conn, self.tenant_id, instance_id, state=state.value, state_detail=reason
                )
                audit = await self._audit(
                    conn, "system", "instance.needs_reauth", instance_id, reason=reason
                )
            self._instances_changed()
        await self.svc.audit.publish(audit)
        log.warning("instance needs re-authorization: %s", reason,
                    extra={"tenant_id": self.tenant_id, "instance_id": instance_id})  # fmt: skip

    async def job_auth_refused(self, instance_id: str, event: Event) -> None:
        """A job of the instance failed on refused credentials (in the worker, a refresh
        answered ``invalid_grant``, or the site's 401 after one): ``needs_reauth`` as when a hook
        raises it. Not when the credential was written after the job ended (a new authorization
        came first; a retried delivery of the event then changes nothing)."""
        outcome = JobOutcome.of(event)
        if outcome is None or not outcome.auth_refused or event.source.instance_id != instance_id:
            return
        try:
            job = await JobStore(self.svc.db).get(self.tenant_id, outcome.job_id)
        except NotFound:
            return  # the job is gone (deleted with its instance): nothing to mark
        changed = await self.svc.credentials.changed_at(self.tenant_id, instance_id)
        if changed is not None and job.finished_at is not None and changed > job.finished_at:
            return
        why = f"the {outcome.kind} job {outcome.job_id} failed: {outcome.error}"
        await self.auth_refused(instance_id, CredentialsRefused(why))

    async def _audit_now(self, actor: str, action: str, target: str) -> None:
        async with self.svc.db.transaction() as conn:
            audit = await self._audit(conn, actor, action, target)
        await self.svc.audit.publish(audit)
