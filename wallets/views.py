from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from wallets import selectors
from wallets.models import LedgerEntry

STATEMENT_PAGE_SIZE = 25


def _describe(entry: LedgerEntry) -> dict:
    """What a statement line says it was, each thing once, and where it links (the chat it paid
    for). A chat reply or a generation is named by its kind and model (its stored description
    says the same with the model's id); any other entry by its description when that already
    names the kind («Пополнение через ЮKassa»), else by its kind with the description beneath
    (an operator's reason). A stored description written from one of our messages is shown in
    the reader's language (the catalogue has it as a msgid)."""
    meta = entry.metadata or {}
    # The display name was recorded with the charge; older entries have only the model's id.
    model = meta.get("model_name") or meta.get("model") or ""
    chat_id = meta.get("chat_id")
    link = f"{reverse('chat')}?chat={chat_id}" if isinstance(chat_id, int) else None
    if entry.kind == LedgerEntry.Kind.CHARGE and meta.get("generation"):
        return {"title": _("Генерация"), "model": model, "link": None, "detail": ""}
    if entry.kind == LedgerEntry.Kind.CHARGE and chat_id is not None:
        return {"title": _("Сообщение в чате"), "model": model, "link": link, "detail": ""}
    title = entry.get_kind_display().capitalize()
    detail = _(entry.description) if entry.description else ""
    if detail.casefold().startswith(title.casefold()):
        title, detail = detail, ""
    return {"title": title, "model": model, "link": link, "detail": detail}


@login_required
@require_GET
def statement(request: HttpRequest) -> HttpResponse:
    """The user's own ledger, newest first, with the holds still waiting to settle."""
    page = Paginator(selectors.statement_entries(user=request.user), STATEMENT_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    lines = [{"entry": entry, **_describe(entry)} for entry in page]
    holds = selectors.open_holds(user=request.user)
    return render(request, "wallets/statement.html", {"page": page, "lines": lines, "holds": holds})
