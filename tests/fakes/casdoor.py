"""A fake Casdoor speaking the part of its REST API we use, on 127.0.0.1.

Like Casdoor: client id/secret as Basic auth; failures are HTTP 200 with
`{"status": "error", "msg": …}`; get-user of a missing user is `{"status": "ok", "data": null}`;
add-user needs owner and name and refuses a duplicate; update-user writes only the columns named
in `columns` (Casdoor's snake_case column names) and, without `columns`, writes its default set
from the posted object, blanking what the object leaves out (the SDK's trap).

The `casdoor` fixture (tests/conftest.py) starts it. Tests switch it down (`server.down = n` answers the next n
requests with HTTP 503), make it answer otherwise until reset (`server.answer`: "hang", "html"
under 200, "error" (500 with a page), "not-a-user" (data of another shape)), and read
`server.users` and `server.requests`.
"""

from __future__ import annotations

import base64

from tests.fakes.server import FakeHandler

CLIENT_ID = "casdoor-client"
CLIENT_SECRET = "casdoor-secret"

# Casdoor's column name -> JSON field, for the columns update-user may name.
COLUMNS = {
    "display_name": "displayName",
    "email": "email",
    "phone": "phone",
    "avatar": "avatar",
    "balance": "balance",
    "score": "score",
}
DEFAULT_COLUMNS = ["display_name", "avatar", "email", "phone", "score"]


class CasdoorHandler(FakeHandler):
    def route(self, method: str, path: str) -> None:
        fake = self.fake
        with fake.lock:
            if fake.down > 0:
                fake.down -= 1
                self.send_json({"error": "unavailable"}, status=503)
                return
            answer = getattr(fake, "answer", None)
        if answer == "hang":
            fake.release.wait(30)
            return
        if answer == "html":
            self.send_bytes(b"<html><body>Casdoor is restarting</body></html>", "text/html")
            return
        if answer == "error":
            self.send_bytes(b"<html><body>500 Internal Server Error</body></html>", "text/html", 500)
            return
        if answer == "not-a-user":
            self.send_json({"status": "ok", "msg": "", "data": ["admin", "built-in"]})
            return
        if not self._authorized():
            self.send_json({"status": "error", "msg": "Unauthorized operation"})
            return
        if (method, path) == ("GET", "/api/get-user"):
            owner, _, name = self.query.get("id", [""])[0].partition("/")
            with fake.lock:
                user = fake.users.get((owner, name))
            self.send_json({"status": "ok", "msg": "", "data": dict(user) if user else None})
        elif (method, path) == ("POST", "/api/add-user"):
            self._add_user(self.json_body() or {})
        elif (method, path) == ("POST", "/api/update-user"):
            self._update_user(self.json_body() or {})
        else:
            self.send_json({"status": "error", "msg": f"unknown API {path}"}, status=404)

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        return header == f"Basic {expected}"

    def _add_user(self, user: dict) -> None:
        owner, name = user.get("owner"), user.get("name")
        if not owner or not name:
            self.send_json({"status": "error", "msg": "owner and name are required"})
            return
        with self.fake.lock:
            if (owner, name) in self.fake.users:
                self.send_json({"status": "error", "msg": f"user {owner}/{name} already exists"})
                return
            self.fake.users[(owner, name)] = dict(user)
        self.send_json({"status": "ok", "msg": "", "data": "Affected"})

    def _update_user(self, body: dict) -> None:
        owner, _, name = self.query.get("id", [""])[0].partition("/")
        columns = [c for c in self.query.get("columns", [""])[0].split(",") if c] or DEFAULT_COLUMNS
        with self.fake.lock:
            user = self.fake.users.get((owner, name))
            if user is None:
                self.send_json({"status": "error", "msg": f"The user: {owner}/{name} doesn't exist"})
                return
            unknown = [c for c in columns if c not in COLUMNS]
            if unknown:
                self.send_json({"status": "error", "msg": f"unknown columns {unknown}"})
                return
            for column in columns:
                field = COLUMNS[column]
                user[field] = body.get(field, 0 if field in ("balance", "score") else "")
        self.send_json({"status": "ok", "msg": "", "data": "Affected"})
