"""What every JSON API view shares: session authentication that answers 401, not 403, the
parsers that apply the input policy (config/input.py), the per-user rate limits, and the
serializer fields for the formats our answers use.

DRF answers 403 to a signed-out caller unless the authentication scheme names a
WWW-Authenticate challenge; our API promises 401 (DESIGN.md). The OpenAPI schema documents it
as the session cookie.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import parsers, serializers, throttling
from rest_framework.authentication import SessionAuthentication as DRFSessionAuthentication
from rest_framework.exceptions import ParseError
from rest_framework.permissions import SAFE_METHODS

from config.input import InputRejected, json_loads, texts_check


class SessionAuthentication(DRFSessionAuthentication):
    def authenticate_header(self, request) -> str:
        return "Session"


class SessionScheme(OpenApiAuthenticationExtension):
    """The session cookie; a request that changes something also needs Django's CSRF pair (the
    cookie and the same token in the X-CSRFToken header), which the schema says as two more
    schemes required together with the session (403 without them)."""

    target_class = SessionAuthentication
    name = ["sessionAuth", "csrfCookie", "csrfHeader"]

    def get_security_definition(self, auto_schema) -> list[dict]:
        return [
            {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME},
            {"type": "apiKey", "in": "cookie", "name": settings.CSRF_COOKIE_NAME},
            {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
        ]

    def get_security_requirement(self, auto_schema) -> dict:
        if auto_schema.method in SAFE_METHODS:
            return {"sessionAuth": []}
        return {name: [] for name in self.name}


class ErrorSerializer(serializers.Serializer):
    """Every error under /api/: a readable message (in the user's language) and, for invalid
    fields, what was wrong with each."""

    detail = serializers.CharField()
    errors = serializers.DictField(required=False)


class StrictSerializer(serializers.Serializer):
    """A request body that takes its fields and nothing else: an unknown field is a 400 (and the
    schema says `additionalProperties: false`), so the schema describes every body accepted."""

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if hasattr(data, "keys") else []
        if unknown:
            raise serializers.ValidationError(
                {name: [_("Неизвестное поле.")] for name in unknown}, code="unknown_field"
            )
        return super().to_internal_value(data)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser under the input policy: NUL, invalid Unicode, absurd nesting and numbers
    out of range are a 400 with the policy's message."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        try:
            return json_loads(body)
        except InputRejected as exc:
            raise ParseError(str(exc)) from exc


def _form_checked(data_and_files):
    """A parsed form's fields and file names under the input policy (Django has already decoded
    them, replacing bytes that are not UTF-8)."""
    is_multipart = isinstance(data_and_files, parsers.DataAndFiles)
    data = data_and_files.data if is_multipart else data_and_files
    try:
        for name, values in data.lists():
            texts_check([name, *(value for value in values if isinstance(value, str))])
        if is_multipart:
            for name, uploaded in data_and_files.files.lists():
                texts_check([name, *(file.name or "" for file in uploaded)])
    except InputRejected as exc:
        raise ParseError(str(exc)) from exc
    return data_and_files


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return _form_checked(super().parse(stream, media_type, parser_context))


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return _form_checked(super().parse(stream, media_type, parser_context))


class UserRateThrottle(throttling.SimpleRateThrottle):
    """A per-user limit on one action: DRF's throttle (its request history lives in the default
    cache, Redis in production), keyed by the session's user id. The rate is
    `settings.RATE_LIMITS[scope]` ("20/m", "60/h"), read on every request; only `methods` count
    (creating chats is limited, listing them is not). A signed-out caller is not counted: every
    limited action answers them 401 first.

    Past the limit DRF raises Throttled: 429 with `Retry-After` (config.errors words it).
    """

    methods = frozenset({"POST"})

    def get_rate(self) -> str:
        return settings.RATE_LIMITS[self.scope]

    def get_cache_key(self, request, view) -> str | None:
        user_id = request.session.get(SESSION_KEY)
        if user_id is None or request.method not in self.methods:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user_id}


def throttle_for(scope: str) -> type[UserRateThrottle]:
    """The throttle class of one limited action, for `@throttle_classes([...])`."""
    return type(f"{scope.title().replace('_', '')}Throttle", (UserRateThrottle,), {"scope": scope})


def throttled_detail(wait: float | None) -> str:
    if wait is None:
        return _("Слишком много запросов. Повторите позже.")
    return _("Слишком много запросов. Повторите через %(seconds)s с.") % {"seconds": max(1, round(wait))}


class DateTimeField(serializers.DateTimeField):
    """A datetime as `datetime.isoformat()` writes it, in the zone it was stored in (UTC):
    `2026-11-28T13:27:00.123456+00:00`. DRF's own field would convert it to TIME_ZONE and write
    `Z`; the API's answers keep the format they have always had."""

    def to_representation(self, value) -> str:
        return value.isoformat()


@extend_schema_field(OpenApiTypes.NUMBER)
class NumberField(serializers.Field):
    """A Decimal as a plain JSON number: 10 for 10.0000, 2.5 for 2.5000 (the old catalog's
    `cost_input` / `cost_output`)."""

    def to_representation(self, value: Decimal) -> int | float:
        return int(value) if value == value.to_integral_value() else float(value)
