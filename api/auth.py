"""API keys bound to roles: `require_roles(Role.SUPERVISOR, ...)` guards a route.

Keys come from `API_KEYS` (`role:key` pairs; one key may appear under several roles) and
arrive in `X-API-Key`, `Authorization: Bearer`, or the sign-in cookie a browser gets from
`/signin` (the Temporal Web UI's codec calls and the console use that). A missing, unknown or
insufficient key is 403, with a message that says which.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.deps import SettingsDep
from config.settings import Settings
from operations.roles import Role

SESSION_COOKIE = "collections_key"

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False)
_bearer = HTTPBearer(auto_error=False)


def roles_of(settings: Settings, key: str) -> set[str]:
    """The roles configured for `key`. Every configured key is compared, in constant time."""
    given = key.encode()
    roles = set()
    for secret, role in settings.api_keys:
        if hmac.compare_digest(given, secret.get_secret_value().encode()):
            roles.add(role.strip().lower())
    return roles


def require_roles(*allowed: Role) -> Callable[..., Role]:
    """A dependency admitting keys with any of `allowed`; it returns the caller's role."""
    if not allowed:
        raise ValueError("require_roles needs at least one role")
    who = ", ".join(allowed)

    def caller_role(
        request: Request,
        settings: SettingsDep,
        api_key: Annotated[str | None, Depends(_api_key_header)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        cookie: Annotated[str | None, Depends(_cookie)],
    ) -> Role:
        key = api_key or (bearer.credentials if bearer else None) or cookie
        roles = roles_of(settings, key) if key else set()
        if not roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                "a valid API key is required (X-API-Key, Authorization: Bearer, or /signin)",
            )
        request.state.roles = tuple(sorted(roles))  # who acts, for the gateway (api.deps)
        for role in allowed:
            if role in roles:
                return role
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"only these roles may call this: {who}")

    return caller_role
