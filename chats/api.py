"""The chats JSON API (DRF): the catalog, the user's chats and their messages. The streamed
reply is chats.stream."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from chats import catalog, selectors, services
from chats.serializers import (
    CatalogGroupSerializer,
    ChatCreateSerializer,
    ChatPageSerializer,
    ChatRenameSerializer,
    ChatSerializer,
    MessageSerializer,
)
from config.api import ErrorSerializer, throttle_for

_PAGE = re.compile(r"[1-9][0-9]{0,17}")


class _ChatPages(PageNumberPagination):
    page_size = 20


def _fields(serializer_class, request: Request) -> dict:
    # A body that is not a JSON object reads as an empty one (the fields have defaults).
    fields = serializer_class(data=request.data if isinstance(request.data, dict) else {})
    fields.is_valid(raise_exception=True)
    return fields.validated_data


@extend_schema(responses=CatalogGroupSerializer(many=True))
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def models_list(request: Request) -> Response:
    """The enabled models, grouped; prices in USD per 1M tokens (the old AI_MODELS_GROUPS)."""
    return Response(CatalogGroupSerializer(catalog.api_groups(), many=True).data)


@extend_schema(
    methods=["GET"],
    operation_id="chats_list",
    responses=ChatPageSerializer,
    parameters=[
        OpenApiParameter("page", int, description="Page number, from 1 (past the last: 404)."),
        OpenApiParameter("q", str, description="Only chats whose title contains this text (any case)."),
    ],
)
@extend_schema(
    methods=["POST"], request=ChatCreateSerializer, responses={201: ChatSerializer, 404: ErrorSerializer}
)
@api_view(["GET", "POST"])
@throttle_classes([throttle_for("chat_create")])
def chats(request: Request) -> Response:
    """The user's chats, most recently active first (paginated, `?q=` searches titles), or a new
    empty chat."""
    if request.method == "POST":
        fields = _fields(ChatCreateSerializer, request)
        try:
            chat = services.chat_create(user=request.user, model_id=fields["model"], title=fields["title"])
        except services.ModelNotFound as exc:
            raise NotFound(_("Такой модели нет.")) from exc
        return Response(ChatSerializer(chat).data, status=201)
    # DRF reads a missing, empty or "last" page as a page; the schema promises a number from 1.
    if "page" in request.query_params and not _PAGE.fullmatch(request.query_params["page"]):
        raise NotFound(_("Нет такой страницы."))
    paginator = _ChatPages()
    # A NUL cannot reach PostgreSQL in a query (and no title holds one).
    query = request.query_params.get("q", "").replace("\x00", "").strip()
    page = paginator.paginate_queryset(selectors.user_chats(user=request.user, query=query), request)
    return Response(
        ChatPageSerializer(
            {
                "count": paginator.page.paginator.count,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": page,
            }
        ).data
    )


@extend_schema(methods=["PATCH"], request=ChatRenameSerializer, responses=ChatSerializer)
@extend_schema(methods=["GET"], responses=ChatSerializer)
@extend_schema(methods=["DELETE"], responses={204: None})
@api_view(["GET", "PATCH", "DELETE"])
def chat_detail(request: Request, chat_id: int) -> Response:
    """One of the user's chats: read, rename (`{"title": ...}`) or delete. Others' are 404."""
    chat = selectors.user_chat(user=request.user, chat_id=chat_id)
    if request.method == "DELETE":
        services.chat_delete(chat=chat)
        return Response(status=204)
    if request.method == "PATCH":
        chat = services.chat_rename(chat=chat, title=_fields(ChatRenameSerializer, request)["title"])
    return Response(ChatSerializer(chat).data)


@extend_schema(responses=MessageSerializer(many=True))
@api_view(["GET"])
def chat_messages(request: Request, chat_id: int) -> Response:
    """A chat's messages in order, with each reply's tokens, cost (RUB) and status."""
    chat = selectors.user_chat(user=request.user, chat_id=chat_id)
    return Response(MessageSerializer(selectors.chat_messages(chat=chat), many=True).data)
