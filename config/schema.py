"""The OpenAPI schema (drf-spectacular) as the API answers: the errors every operation can give,
and the two routes that are not DRF views, the chat stream and YooKassa's webhook."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular import openapi
from rest_framework.permissions import SAFE_METHODS

from config.api import ErrorSerializer, StrictSerializer
from config.input import MAX_INTEGER, NONBLANK_TEXT_PATTERN, TEXT_PATTERN


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema plus the errors every operation can answer, so that the schema
    lists each status a client may see: 400 for a body it refuses (config.input's policy
    included), 401 signed out, 403 without the CSRF pair, 404 for an object that is not the
    user's (or a page past the end), 413 for a body over the limit, 415 for a body that is not
    the operation's media type, 429 with Retry-After past a rate limit. Statuses an operation
    documents itself are kept."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, applies in self._error_codes().items():
            if applies and str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    ErrorSerializer, str(code), direction=direction
                )
        return responses

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request":
            # After DRF's validators are in (a RegexField's pattern): the policy is added to them.
            for name, value in schema.get("properties", {}).items():
                schema["properties"][name] = request_value_schema(value)
            if isinstance(serializer, StrictSerializer):
                schema["additionalProperties"] = False
        return schema

    def _get_response_headers_for_code(self, status_code, direction="response") -> dict:
        headers = super()._get_response_headers_for_code(status_code, direction)
        if str(status_code) == "429":
            headers["Retry-After"] = {"schema": {"type": "integer"}, "description": "Seconds to wait."}
        return headers

    def _error_codes(self) -> dict[int, bool]:
        has_body = self.method in ("POST", "PUT", "PATCH")
        signed_in = bool(self.view.get_authenticators())
        paginated = self.method == "GET" and self.path == "/api/chats"
        return {
            400: has_body,
            401: signed_in,
            403: signed_in and self.method not in SAFE_METHODS,
            404: "{" in self.path or paginated,
            413: has_body,
            415: has_body,
            # A throttle counts only its methods (creating chats is limited, listing them is not).
            429: any(
                self.method in getattr(throttle, "methods", (self.method,))
                for throttle in self.view.get_throttles()
            ),
        }


def request_value_schema(schema: dict) -> dict:
    """A request value's schema with the input policy added: its text free of NUL and lone
    surrogates, its numbers within MAX_INTEGER."""
    if schema.get("type") == "string" and schema.get("format") != "binary":
        # A field with a pattern of its own keeps it: each such pattern refuses NUL and
        # surrogates already (NONBLANK_TEXT_PATTERN, the amount's digits).
        return {"pattern": TEXT_PATTERN, **schema}
    if schema.get("type") in ("number", "integer"):
        return {"minimum": -MAX_INTEGER, "maximum": MAX_INTEGER, **schema}
    if "oneOf" in schema:
        return {**schema, "oneOf": [request_value_schema(option) for option in schema["oneOf"]]}
    return schema


def _json(schema: dict, description: str = "") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERROR = {"$ref": "#/components/schemas/Error"}
_SESSION_AND_CSRF = [{"sessionAuth": [], "csrfCookie": [], "csrfHeader": []}]


def _send_operation() -> dict:
    """`POST /api/chats/send` (chats.stream, a plain async view): its body and answers."""
    line = {
        "type": "object",
        "description": "One NDJSON line: meta first, content chunks, then balance or error.",
        "required": ["type"],
        "properties": {
            "type": {"type": "string", "enum": ["meta", "content", "balance", "error"]},
            "chat_id": {"type": "integer"},
            "text": {"type": "string"},
            "balance": {"type": "number"},
        },
    }
    body = {
        "type": "object",
        "required": ["message", "model"],
        "properties": {
            "message": request_value_schema(
                {
                    "type": "string",
                    "maxLength": settings.CHAT_MAX_MESSAGE_CHARS,
                    "pattern": NONBLANK_TEXT_PATTERN,
                }
            ),
            "model": request_value_schema({"type": "string", "minLength": 1}),
            "chat_id": {
                "type": "integer",
                "nullable": True,
                "description": "An existing chat of yours; none: a new one.",
            },
            "image_urls": {
                "type": "array",
                "nullable": True,
                "maxItems": settings.CHAT_MAX_IMAGES,
                "items": request_value_schema({"type": "string"}),
                "description": "URLs of your own uploads (POST /api/upload), for a vision model.",
            },
        },
    }
    media = {
        "type": "object",
        "required": ["type", "chat_id", "generation"],
        "properties": {
            "type": {"type": "string", "enum": ["media"]},
            "chat_id": {"type": "integer"},
            "generation": {"$ref": "#/components/schemas/Generation"},
            "detail": {"type": "string"},
        },
    }
    errors = {
        "400": "Invalid body (the input policy, an empty or too long message, images a model cannot take or that are not yours).",
        "401": "Signed out.",
        "402": "Balance too low for a minimal reply.",
        "403": "CSRF check failed.",
        "404": "Unknown chat or model.",
        "413": "Body over the limit.",
        "429": "Too many messages a minute.",
        "503": "Chat not configured.",
    }
    responses = {
        "200": {
            "description": "The reply, streamed as NDJSON.",
            "content": {"application/x-ndjson": {"schema": line}},
        },
        "202": _json(media, "An image or video model: the generation runs; poll it."),
        **{code: _json(_ERROR, text) for code, text in errors.items()},
    }
    responses["429"]["headers"] = {
        "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
    }
    responses["503"] = _json(
        {"oneOf": [_ERROR, media]}, "Chat not configured, or a generation could not be submitted."
    )
    return {
        "operationId": "chats_send",
        "description": "Sends a message and streams the model's reply (DESIGN.md: the NDJSON protocol).",
        "tags": ["chats"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "security": _SESSION_AND_CSRF,
        "responses": responses,
    }


def _webhook_operation() -> dict:
    """`POST /api/payment/webhook` (payments.views.webhook): YooKassa's notifications."""
    notification = {
        "type": "object",
        "required": ["type", "event", "object"],
        "properties": {
            "type": {"type": "string", "enum": ["notification"]},
            "event": {"type": "string", "example": "payment.succeeded"},
            "object": {
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"type": "string", "minLength": 1}},
            },
        },
    }
    outcome = {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}}
    return {
        "operationId": "payment_webhook",
        "description": (
            "YooKassa's notifications, from its published addresses only. The body names the "
            "object; the object itself is fetched from YooKassa's API."
        ),
        "tags": ["payment"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": notification}}},
        "security": [],
        "responses": {
            "200": _json(outcome, "Processed, or nothing to do (unknown object or event)."),
            "400": _json(outcome, "A body that is not a notification: stored as malformed."),
            "403": _json(_ERROR, "Not from YooKassa's addresses."),
            "413": _json(_ERROR, "Body over the limit."),
            "502": _json(outcome, "YooKassa's API could not be asked: YooKassa retries."),
        },
    }


def plain_views(result: dict, generator, request, public) -> dict:
    """Postprocessing hook: the two /api/ routes that are not DRF views."""
    result["paths"]["/api/chats/send"] = {"post": _send_operation()}
    result["paths"]["/api/payment/webhook"] = {"post": _webhook_operation()}
    return result
