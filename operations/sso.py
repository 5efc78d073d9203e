"""Single sign-on by OpenID Connect: this console is the relying party of the bank's identity
provider (authorization code flow with PKCE S256, a nonce, and a state kept in the database).

- `begin` stores a `SignInFlowRow` (state, nonce, PKCE verifier, where to go next) and returns
  the provider's authorization URL. A flow lives `FLOW_MINUTES`; older ones are purged here.
- `finish` takes the flow back by its state (once: a replayed state finds nothing), exchanges
  the code, checks the id_token (signature by the provider's JWKS, `iss`, `aud`, `exp`, `iat`,
  `nonce`) and maps its claims to a person of the staff directory. The provider is
  authoritative for roles: they replace the directory's at each sign-in. It is not for who may
  sign in at all: a person disabled here stays out, and a staff id bound to one provider
  subject (`sub`) is never handed to another.
- The discovery document and the JWKS are cached per issuer; an id_token signed with a key id
  not in the cache fetches the JWKS once more (the provider rotated its keys).

Every refusal is an `SsoError` whose message says what failed, never a token or a secret.
"""

from __future__ import annotations

import logging
import re
import secrets
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, or_, select

from config.settings import Settings
from models.people import role_named
from operations import staff
from operations.staff import Person
from readmodel.engine import Database
from readmodel.tables import SignInFlowRow, StaffRow

with warnings.catch_warnings():  # authlib 1.9 asks for `httpx2`, and works on httpx meanwhile
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.common.errors import AuthlibBaseError  # type: ignore[import-untyped]
    from authlib.integrations.httpx_client import (  # type: ignore[import-untyped]
        AsyncOAuth2Client,
    )

log = logging.getLogger(__name__)

FLOW_MINUTES = 10
SCOPE = "openid profile email"
# Asymmetric algorithms only: `none` and HMAC (keyed with the client secret) are not accepted.
ALGORITHMS = ("RS256", "PS256", "ES256")
LEEWAY_SECONDS = 60  # clock skew between the provider and this host
HTTP_TIMEOUT = httpx.Timeout(10.0)


class SsoError(Exception):
    """A single sign-on that cannot go on; the message names what failed."""


@dataclass(frozen=True)
class SignedIn:
    """A finished sign-on: who, and the console path they set out for."""

    person: Person
    next_path: str


@dataclass
class _Provider:
    """What an issuer's discovery document says, and its signing keys once fetched."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    auth_methods: tuple[str, ...]
    keys: KeySet | None = field(default=None)


_providers: dict[str, _Provider] = {}


def _now() -> datetime:
    return datetime.now(UTC)


# --- the provider ------------------------------------------------------------------------------


async def _get_json(url: str, what: str) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            body = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise SsoError(f"the identity provider's {what} could not be read: {error}") from None
    if not isinstance(body, dict):
        raise SsoError(f"the identity provider's {what} is not a JSON object")
    return body


async def _provider(issuer: str) -> _Provider:
    """The issuer's discovery document, fetched once per process."""
    issuer = issuer.rstrip("/")
    if cached := _providers.get(issuer):
        return cached
    found = await _get_json(f"{issuer}/.well-known/openid-configuration", "discovery document")
    if str(found.get("issuer", "")).rstrip("/") != issuer:
        raise SsoError("the discovery document names another issuer than the one configured")
    endpoints = ("authorization_endpoint", "token_endpoint", "jwks_uri")
    if missing := [name for name in endpoints if not isinstance(found.get(name), str)]:
        raise SsoError(f"the discovery document lacks {', '.join(missing)}")
    methods = found.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    provider = _Provider(
        issuer=str(found["issuer"]),
        authorization_endpoint=str(found["authorization_endpoint"]),
        token_endpoint=str(found["token_endpoint"]),
        jwks_uri=str(found["jwks_uri"]),
        auth_methods=tuple(str(method) for method in methods),
    )
    _providers[issuer] = provider
    return provider


async def _keys(provider: _Provider, *, refresh: bool = False) -> KeySet:
    if provider.keys is None or refresh:
        found = await _get_json(provider.jwks_uri, "JWKS")
        try:
            provider.keys = KeySet.import_key_set(cast(Any, found))
        except (JoseError, KeyError, TypeError, ValueError):
            raise SsoError("the identity provider's JWKS holds no usable key") from None
    return provider.keys


def _client(settings: Settings, provider: _Provider, redirect_uri: str) -> AsyncOAuth2Client:
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
    if secret is None:
        method = "none"  # a public client: PKCE alone binds the code to this flow
    elif "client_secret_basic" in provider.auth_methods:
        method = "client_secret_basic"
    else:
        method = "client_secret_post"
    return AsyncOAuth2Client(
        client_id=settings.oidc_client_id,
        client_secret=secret,
        token_endpoint_auth_method=method,
        scope=SCOPE,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=HTTP_TIMEOUT,
    )


# --- the flow ---------------------------------------------------------------------------------


async def begin(db: Database, settings: Settings, redirect_uri: str, next_path: str) -> str:
    """Stores a new flow and returns the provider's authorization URL to send the browser to."""
    provider = await _provider(settings.oidc_issuer)
    now = _now()
    flow = SignInFlowRow(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64),  # 86 characters: RFC 7636 asks 43 to 128
        next_path=next_path,
        created_at=now,
    )
    async with db.session() as session:
        await session.exec(
            delete(SignInFlowRow).where(
                col(SignInFlowRow.created_at) < now - timedelta(minutes=FLOW_MINUTES)
            )
        )
        session.add(flow)
    async with _client(settings, provider, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            provider.authorization_endpoint,
            state=flow.state,
            code_verifier=flow.code_verifier,
            nonce=flow.nonce,
        )
    return str(url)


async def _take_flow(db: Database, state: str) -> SignInFlowRow:
    """The flow of this state, deleted in the same transaction: a state serves once."""
    async with db.session() as session:
        found = await session.exec(select(SignInFlowRow).where(SignInFlowRow.state == state))
        flow = found.first()
        if flow is None:
            raise SsoError("no sign-on in progress has this state (unknown or already used)")
        taken = await session.exec(delete(SignInFlowRow).where(col(SignInFlowRow.id) == flow.id))
        if not taken.rowcount:
            raise SsoError("no sign-on in progress has this state (unknown or already used)")
    if _now() - flow.created_at > timedelta(minutes=FLOW_MINUTES):
        raise SsoError(f"the sign-on took longer than {FLOW_MINUTES} minutes")
    return flow


async def finish(
    db: Database, settings: Settings, redirect_uri: str, state: str, code: str
) -> SignedIn:
    """Completes the flow of `state`: the code exchanged, the id_token checked, the person
    found (or added) and their roles set from the provider's."""
    if not state or not code:
        raise SsoError("the identity provider's answer lacks a state or a code")
    flow = await _take_flow(db, state)
    provider = await _provider(settings.oidc_issuer)
    async with _client(settings, provider, redirect_uri) as client:
        try:
            token = await client.fetch_token(
                provider.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=flow.code_verifier,
            )
        except (AuthlibBaseError, httpx.HTTPError, ValueError) as error:
            reason = getattr(error, "error", None) or type(error).__name__  # e.g. invalid_grant
            raise SsoError(f"the code exchange failed: {reason}") from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SsoError("the token response has no id_token")
    claims = await _verified_claims(provider, settings.oidc_client_id, id_token, flow.nonce)
    person = await _person(db, claims, settings.oidc_roles_claim)
    return SignedIn(person, flow.next_path)


async def _verified_claims(
    provider: _Provider, client_id: str, id_token: str, nonce: str
) -> dict[str, Any]:
    try:
        try:
            decoded = jwt.decode(id_token, await _keys(provider), algorithms=ALGORITHMS)
        except InvalidKeyIdError:
            fresh = await _keys(provider, refresh=True)
            decoded = jwt.decode(id_token, fresh, algorithms=ALGORITHMS)
        jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": provider.issuer},
            aud={"essential": True, "value": client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(decoded.claims)
    except JoseError as error:
        detail = f"{error.error} ({error.description})" if error.description else error.error
        raise SsoError(f"the id_token was refused: {detail}") from None
    claims = decoded.claims
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise SsoError("the id_token has several audiences and this client is not its azp")
    return claims


# --- the person -------------------------------------------------------------------------------


def _role_names(value: object, claim: str) -> list[str]:
    if isinstance(value, str):
        return [name for name in re.split(r"[\s,]+", value) if name]
    if isinstance(value, list) and all(isinstance(name, str) for name in value):
        return cast(list[str], value)
    if value is None:
        return []
    raise SsoError(f"the claim {claim!r} is neither a list of role names nor a string")


def _known(name: str) -> bool:
    try:
        role_named(name)
    except ValueError:
        return False
    return True


def _roles(claims: Mapping[str, Any], claim: str) -> str:
    """The provider's roles this console knows, as the directory stores them."""
    names = [name for name in _role_names(claims.get(claim), claim) if _known(name)]
    if not names:
        raise SsoError(f"the claim {claim!r} holds no role this console knows")
    return ",".join(sorted(staff.parse_roles(names)))


def _staff_id(claims: Mapping[str, Any]) -> str:
    username = claims.get("preferred_username")
    person_id = username.strip().lower() if isinstance(username, str) else ""
    if not staff.PERSON_ID.match(person_id):
        raise SsoError("the claim 'preferred_username' is missing or not a valid staff id")
    return person_id


async def _person(db: Database, claims: Mapping[str, Any], roles_claim: str) -> Person:
    subject = str(claims["sub"])
    person_id = _staff_id(claims)
    roles = _roles(claims, roles_claim)
    now = _now()
    try:
        async with db.session() as session:
            found = await session.exec(
                select(StaffRow).where(
                    or_(col(StaffRow.oidc_subject) == subject, col(StaffRow.person_id) == person_id)
                )
            )
            rows = list(found)
            if any(row.oidc_subject == subject and row.person_id != person_id for row in rows):
                raise SsoError("this provider subject is bound to another staff id")
            row = next((row for row in rows if row.person_id == person_id), None)
            if row is None:
                name = claims.get("name")
                row = StaffRow(
                    person_id=person_id,
                    display_name=(name.strip() if isinstance(name, str) else "") or person_id,
                    roles=roles,
                    oidc_subject=subject,
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
                return staff.person_of(row)
            if row.oidc_subject and row.oidc_subject != subject:
                raise SsoError("the staff id is bound to another provider subject")
            if row.kind != "person":
                raise SsoError("a service account signs in by token, not by single sign-on")
            if not row.active:
                raise SsoError("the person is disabled in the staff directory")
            if row.roles != roles:
                # As when an admin changes roles: sessions under the old ones end.
                await staff.end_sessions(session, person_id)
                row.roles = roles
            row.oidc_subject = subject
            row.updated_at = now
            session.add(row)
            return staff.person_of(row)
    except IntegrityError:
        # Another first sign-in of the same id or subject committed between our read and write.
        raise SsoError("the staff directory changed during the sign-on; try again") from None
