"""A tiny OpenID provider for tests, served for real on 127.0.0.1 (`BackgroundServer`).

It auto-approves: `/authorize` checks the client and its redirect URI, keeps the PKCE challenge
and nonce, and sends the browser back with a code for `user`; `/token` checks the code (once),
the client's secret (HTTP Basic or form), the redirect URI and the PKCE verifier, and answers
with an RS256 id_token for that user. `forgery` makes the next id_tokens wrong in one way
(another key, another audience, another nonce) for the relying party to refuse.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.server import BackgroundServer


@dataclass
class User:
    """Who signs in next, as the provider describes them."""

    sub: str
    preferred_username: str
    name: str = ""
    roles: list[str] | str = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Forgery:
    """A wrong id_token: signed by another key, or with claims overridden (`aud`, `nonce`)."""

    other_key: bool = False
    kid: str | None = None  # the `kid` header; None: the provider's published key's
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str
    user: User


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class FakeOidcProvider:
    """Start with `start()`; set `user` (and `forgery`) before each sign-in."""

    def __init__(
        self, *, client_id: str, client_secret: str, redirect_uri: str, roles_claim: str = "roles"
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.roles_claim = roles_claim
        self.key = RSAKey.generate_key(2048, parameters={"kid": "key-1"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "not-published"})
        self.user: User | None = None
        self.forgery: Forgery | None = None
        self.jwks_requests = 0
        self.token_requests = 0
        self._grants: dict[str, _Grant] = {}
        self._server = BackgroundServer(
            Starlette(
                routes=[
                    Route("/.well-known/openid-configuration", self._discovery),
                    Route("/jwks", self._jwks),
                    Route("/authorize", self._authorize),
                    Route("/token", self._token, methods=["POST"]),
                ]
            )
        )

    @property
    def issuer(self) -> str:
        return self._server.url

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        self.user, self.forgery = None, None

    def rotate_key(self, kid: str) -> None:
        """A new signing key under a new id, published at once (the old one withdrawn)."""
        self.key = RSAKey.generate_key(2048, parameters={"kid": kid})

    # --- endpoints ---------------------------------------------------------------------------

    async def _discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
            }
        )

    async def _jwks(self, request: Request) -> Response:
        self.jwks_requests += 1
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def _authorize(self, request: Request) -> Response:
        query = request.query_params
        if query.get("client_id") != self.client_id:
            return _error(400, "unauthorized_client", "unknown client_id")
        if query.get("redirect_uri") != self.redirect_uri:
            return _error(400, "invalid_request", "redirect_uri not registered")
        if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
            return _error(400, "invalid_request", "response_type code and scope openid needed")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return _error(400, "invalid_request", "PKCE S256 is required")
        if self.user is None:
            return _error(400, "access_denied", "the test set no user")
        code = secrets.token_urlsafe(24)
        self._grants[code] = _Grant(
            client_id=self.client_id,
            redirect_uri=self.redirect_uri,
            code_challenge=query["code_challenge"],
            nonce=query.get("nonce", ""),
            user=self.user,
        )
        answer = urlencode({"code": code, "state": query.get("state", "")})
        return RedirectResponse(f"{self.redirect_uri}?{answer}", status_code=302)

    async def _token(self, request: Request) -> Response:
        self.token_requests += 1
        form = await request.form()
        client_id, secret = _client_credentials(request, form)
        if client_id != self.client_id or secret != self.client_secret:
            return _error(401, "invalid_client", "client authentication failed")
        if form.get("grant_type") != "authorization_code":
            return _error(400, "unsupported_grant_type", "only authorization_code")
        grant = self._grants.pop(str(form.get("code", "")), None)
        if grant is None or grant.client_id != client_id:
            return _error(400, "invalid_grant", "unknown or used code")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _error(400, "invalid_grant", "redirect_uri differs")
        if _s256(str(form.get("code_verifier", ""))) != grant.code_challenge:
            return _error(400, "invalid_grant", "PKCE verifier does not match")
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": self._id_token(grant),
            },
            headers={"Cache-Control": "no-store"},
        )

    def _id_token(self, grant: _Grant) -> str:
        now = int(time.time())
        user = grant.user
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": grant.client_id,
            "sub": user.sub,
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            "preferred_username": user.preferred_username,
            "name": user.name,
            self.roles_claim: user.roles,
            **user.extra,
        }
        forgery = self.forgery or Forgery()
        claims.update(forgery.claims)
        key = self.other_key if forgery.other_key else self.key
        header = {"alg": "RS256", "kid": forgery.kid or self.key.kid}
        return jwt.encode(header, claims, key)


def _client_credentials(request: Request, form: Any) -> tuple[str, str]:
    """client_secret_basic, else client_secret_post."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        raw = base64.b64decode(auth[6:]).decode()
        client_id, _, secret = raw.partition(":")
        return unquote_plus(client_id), unquote_plus(secret)
    return str(form.get("client_id", "")), str(form.get("client_secret", ""))


def _error(status: int, error: str, description: str) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)
