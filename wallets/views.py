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


def _describe(*, kind: str, kind_label: str, description: str, metadata: dict) -> dict:
    """What a statement line (an entry, or a hold still open) says it was, each thing once, in
    the reader's language, and where it links (the chat it paid for).

    A chat reply or a generation is named by its kind and model (its stored description says the
    same with the model's name). Anything else by its description when that already names the
    kind («Пополнение через ЮKassa»), else by its kind with the description beneath (an
    operator's reason). Descriptions are stored in the site's language; one written from our
    messages is a msgid of the catalogue, so it is shown translated."""
    # The display name was recorded with the charge; older entries have only the model's id.
    model = metadata.get("model_name") or metadata.get("model") or ""
    chat_id = metadata.get("chat_id")
    link = f"{reverse('chat')}?chat={chat_id}" if isinstance(chat_id, int) else None
    if kind == LedgerEntry.Kind.CHARGE and metadata.get("generation"):
        return {"title": _("Генерация"), "model": model, "link": None, "detail": ""}
    if kind == LedgerEntry.Kind.CHARGE and chat_id is not None:
        return {"title": _("Сообщение в чате"), "model": model, "link": link, "detail": ""}
    detail = _(description) if description else ""
    if detail.casefold().startswith(kind_label.casefold()):
        return {"title": detail, "model": model, "link": link, "detail": ""}
    return {"title": kind_label, "model": model, "link": link, "detail": detail}


@login_required
@require_GET
def statement(request: HttpRequest) -> HttpResponse:
    """The user's own ledger, newest first, with the holds still waiting to settle."""
    page = Paginator(selectors.statement_entries(user=request.user), STATEMENT_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    lines = [
        {
            "entry": entry,
            **_describe(
                kind=entry.kind,
                kind_label=entry.get_kind_display().capitalize(),
                description=entry.description,
                metadata=entry.metadata or {},
            ),
        }
        for entry in page
    ]
    # An open hold is a charge on its way: described as the charge will be.
    holds = [
        {
            "hold": hold,
            **_describe(
                kind=LedgerEntry.Kind.CHARGE,
                kind_label=_("Запрос в работе"),
                description=hold.description,
                metadata=hold.metadata or {},
            ),
        }
        for hold in selectors.open_holds(user=request.user)
    ]
    return render(request, "wallets/statement.html", {"page": page, "lines": lines, "holds": holds})
