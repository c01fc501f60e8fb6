"""Chats and messages in admin.

Chats can be looked at and deleted. Messages are read-only: their tokens
and cost are what was billed, and the money itself moved through the wallet ledger.
"""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from chats.models import Chat, Message
from config.admin import ReadOnly


class MessageInline(ReadOnly, admin.TabularInline):
    """A chat's messages, read-only; the full record of one is on its own page."""

    model = Message
    fields = ("created_at", "role", "status", "content_preview", "tokens_in", "tokens_out", "cost")
    readonly_fields = fields
    ordering = ("created_at", "id")
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    @admin.display(description=_("текст"))
    def content_preview(self, message: Message) -> str:
        return Truncator(message.content).chars(100)


@admin.register(Chat)
class ChatAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "model", "title", "created_at", "updated_at")
    search_fields = ("title", "user__casdoor_id", "user__email", "user__name")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    ordering = ("-updated_at",)
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "updated_at")
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Read-only. Deleting stays allowed: a chat's messages go with it when the chat is deleted
    (admin asks for the delete permission of every related row)."""

    list_display = ("id", "chat", "role", "model", "status", "tokens_in", "tokens_out", "cost", "created_at")
    list_filter = ("role", "status")
    search_fields = ("chat__title", "chat__user__casdoor_id", "chat__user__email", "model")
    list_select_related = ("chat",)
    date_hierarchy = "created_at"
    fields = (
        "chat",
        "role",
        "status",
        "model",
        "content",
        "image_url",
        "image_urls",
        "attachment_url",
        "tokens_in",
        "tokens_out",
        "cost",
        "error",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
