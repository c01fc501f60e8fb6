from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from wallets import selectors
from wallets.models import LedgerEntry

STATEMENT_PAGE_SIZE = 25


def _describe(entry: LedgerEntry, names: dict[str, str]) -> dict:
    """What a statement line says it was, and where it links (the chat it paid for)."""
    meta = entry.metadata or {}
    model = names.get(meta.get("model"), meta.get("model") or "")
    chat_id = meta.get("chat_id")
    link = f"/chat/?id={chat_id}" if isinstance(chat_id, int) else None
    if entry.kind == LedgerEntry.Kind.CHARGE and meta.get("generation"):
        title = _("Генерация")
    elif entry.kind == LedgerEntry.Kind.CHARGE and chat_id is not None:
        title = _("Сообщение в чате")
    else:
        title = entry.get_kind_display().capitalize()
    return {"title": title, "model": model, "link": link, "detail": entry.description}


@login_required
@require_GET
def statement(request: HttpRequest) -> HttpResponse:
    """The user's own ledger, newest first, with the holds still waiting to settle."""
    page = Paginator(selectors.statement_entries(user=request.user), STATEMENT_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    names = selectors.model_names(
        model_ids={e.metadata.get("model") for e in page if e.metadata.get("model")}
    )
    lines = [{"entry": entry, **_describe(entry, names)} for entry in page]
    holds = selectors.open_holds(user=request.user)
    return render(request, "wallets/statement.html", {"page": page, "lines": lines, "holds": holds})
