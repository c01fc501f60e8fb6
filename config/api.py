"""What every JSON API view shares: session authentication that answers 401, not 403.

DRF answers 403 to a signed-out caller unless the authentication scheme names a
WWW-Authenticate challenge; our API promises 401 (DESIGN.md). The OpenAPI schema documents it
as the session cookie.
"""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import SessionAuthentication as DRFSessionAuthentication


class SessionAuthentication(DRFSessionAuthentication):
    def authenticate_header(self, request) -> str:
        return "Session"


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = SessionAuthentication
    name = "sessionAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
