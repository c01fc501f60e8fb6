"""A thin client for Casdoor's REST API, server to server.

Why not the `casdoor` SDK: it sends no timeout, and its update without `columns` overwrites
fields it did not mean to touch. This client bounds every call, always names the columns it
updates, and turns Casdoor's way of failing (HTTP 200 with `{"status": "error", "msg": …}`) into
`CasdoorError`, like any transport error or non-200 answer. Both accounts and wallets use it.
"""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings


class CasdoorError(Exception):
    """Casdoor could not be reached, answered badly, or refused the request."""


class CasdoorNotConfigured(CasdoorError):
    """CASDOOR_INTERNAL_URL or the client credentials are not set."""


class CasdoorClient:
    def __init__(
        self, *, base_url: str, client_id: str, client_secret: str, org: str, timeout: float
    ) -> None:
        self.org = org
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=(client_id, client_secret),
            timeout=timeout,
            headers={"Accept": "application/json"},
        )

    def __enter__(self) -> CasdoorClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self._http.close()

    def _user_id(self, name: str) -> str:
        return f"{self.org}/{name}"

    def _call(self, method: str, path: str, *, params: dict | None = None, json: Any = None) -> Any:
        try:
            response = self._http.request(method, path, params=params, json=json)
        except httpx.HTTPError as error:
            raise CasdoorError(f"{method} {path}: {error.__class__.__name__}: {error}") from error
        if response.status_code != 200:
            raise CasdoorError(f"{method} {path}: HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as error:
            raise CasdoorError(f"{method} {path}: the answer is not JSON") from error
        if not isinstance(body, dict) or body.get("status") != "ok":
            message = body.get("msg") if isinstance(body, dict) else body
            raise CasdoorError(f"{method} {path}: {message or 'unknown error'}")
        return body.get("data")

    def get_user(self, name: str) -> dict | None:
        """The user `org/name`, or None when Casdoor has no such user.

        Raises:
            CasdoorError: unreachable, refused, or `data` that is not a user object.
        """
        user = self._call("GET", "/api/get-user", params={"id": self._user_id(name)})
        if user is None:
            return None
        if not isinstance(user, dict) or user.get("name") not in (None, name):
            raise CasdoorError(f"get-user {name}: the answer is not that user: {str(user)[:200]}")
        return user

    def add_user(self, user: dict) -> None:
        """Creates a user; `user` holds Casdoor's JSON fields (owner and name are required)."""
        self._call("POST", "/api/add-user", json={"owner": self.org, **user})

    def update_user(self, name: str, fields: dict, columns: list[str]) -> None:
        """Writes only `columns` of user `org/name`.

        Args:
            name: the user's name in Casdoor (our `casdoor_id`).
            fields: Casdoor JSON fields to send (`displayName`, `balance`, …).
            columns: Casdoor's column names to write (`display_name`, `balance`, …); Casdoor
                leaves every other column alone. Never empty: without it Casdoor writes its
                default set of columns from this partial object, blanking the rest.
        """
        if not columns:
            raise ValueError("update_user needs the columns to write")
        self._call(
            "POST",
            "/api/update-user",
            params={"id": self._user_id(name), "columns": ",".join(columns)},
            json={"owner": self.org, "name": name, **fields},
        )


def is_configured() -> bool:
    return bool(
        settings.CASDOOR_INTERNAL_URL and settings.CASDOOR_CLIENT_ID and settings.CASDOOR_CLIENT_SECRET
    )


def client() -> CasdoorClient:
    """A client for the configured Casdoor; use it as a context manager."""
    if not is_configured():
        raise CasdoorNotConfigured(
            "Casdoor is not configured (CASDOOR_INTERNAL_URL, CASDOOR_CLIENT_ID/SECRET)"
        )
    return CasdoorClient(
        base_url=settings.CASDOOR_INTERNAL_URL,
        client_id=settings.CASDOOR_CLIENT_ID,
        client_secret=settings.CASDOOR_CLIENT_SECRET,
        org=settings.CASDOOR_ORG,
        timeout=settings.CASDOOR_TIMEOUT,
    )
