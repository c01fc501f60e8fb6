"""What every JSON API view shares: session authentication that answers 401, not 403, and the
serializer fields for the formats our answers use.

DRF answers 403 to a signed-out caller unless the authentication scheme names a
WWW-Authenticate challenge; our API promises 401 (DESIGN.md). The OpenAPI schema documents it
as the session cookie.
"""

from decimal import Decimal

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication as DRFSessionAuthentication


class SessionAuthentication(DRFSessionAuthentication):
    def authenticate_header(self, request) -> str:
        return "Session"


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = SessionAuthentication
    name = "sessionAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


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
