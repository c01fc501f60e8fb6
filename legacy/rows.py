"""The per-row path: one old row turned into ours, each in its own savepoint, safe to repeat.

It imports everything when our database is SQLite, and on PostgreSQL only the rows the
set-based step (legacy.bulk) left over, so that a malformed row is reported with its key and
the reason, and never stops the run. Both paths follow the same rules:

- a row whose signature matches the one recorded in `ImportedRow` is unchanged: nothing runs;
- a new row becomes ours and is recorded; a changed one is brought up to date: a balance by a
  correcting `adjustment` entry (the legacy entries of a wallet always add up to the old
  balance), a payment's status unless ours is final (never crediting anything: the old
  balance already contains every succeeded payment), a profile, a chat's title, a message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from chats.models import Chat, Message
from legacy.models import ImportedRow, LegacySession
from legacy.report import TableReport
from legacy.tables import Table
from payments.models import Payment
from wallets.models import LedgerEntry
from wallets.services import InsufficientFunds, wallet_credit, wallet_debit

SOCIAL_PROVIDERS = ("vk", "google", "yandex", "telegram")
LEGACY_REFERENCE = "legacy:"
OPENING_BALANCE = "Остаток из старой системы"
# What an imported payment's provider object says: the wallet was never credited here.
IMPORTED_PAYMENT = {"imported_from_legacy": True}


class BadRow(Exception):
    """The row cannot be imported as it is; it is reported and skipped."""


class Outcome(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


def money(value, what: str) -> Decimal:
    try:
        amount = Decimal(str(value if value is not None else 0))
    except InvalidOperation:
        raise BadRow(f"{what} is not a number: {value!r}") from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise BadRow(f"{what} has fractions of a kopeck: {amount}")
    return amount


def _user(casdoor_id: str | None) -> User:
    user = User.objects.filter(casdoor_id=casdoor_id or "").first()
    if user is None:
        raise BadRow(f"no user {casdoor_id!r}")
    return user


def legacy_entries(*, wallet_id: int):
    """The entries the import wrote on a wallet: `legacy:<casdoor_id>`, then `…:<n>`."""
    return LedgerEntry.objects.filter(wallet_id=wallet_id, reference__startswith=LEGACY_REFERENCE)


def _bring_balance(*, user: User, casdoor_id: str, balance: Decimal) -> None:
    """Makes the legacy entries of `user`'s wallet add up to the old balance."""
    entries = legacy_entries(wallet_id=user.pk)
    delta = balance - (entries.aggregate(total=Sum("amount"))["total"] or Decimal(0))
    if delta == 0:
        return
    n = entries.count()
    # The first entry is `legacy:<casdoor_id>`; corrections after a rehearsal run number on.
    reference = f"{LEGACY_REFERENCE}{casdoor_id}" if n == 0 else f"{LEGACY_REFERENCE}{casdoor_id}:{n}"
    change = wallet_credit if delta > 0 else wallet_debit
    try:
        change(
            user=user,
            amount=abs(delta),
            reference=reference,
            kind=LedgerEntry.Kind.ADJUSTMENT,
            description=OPENING_BALANCE,
        )
    except InsufficientFunds:
        raise BadRow(f"the old balance fell by {-delta} ₽, more than is available here") from None


def _link_sign_in(*, user: User, casdoor_id: str, email: str) -> None:
    """Links the way the person signed in to the old system, so the next sign-in finds them."""
    provider, _, uid = casdoor_id.partition("_")
    if provider in SOCIAL_PROVIDERS and uid:
        SocialAccount.objects.get_or_create(provider=provider, uid=uid, defaults={"user": user})
    elif provider == "email" and email:
        address = email.lower()
        # The old system confirmed the address by code; another account may have verified it
        # already (it is then left unverified here rather than failing the row).
        EmailAddress.objects.get_or_create(
            user=user,
            email=address,
            defaults={
                "verified": not EmailAddress.objects.filter(email=address, verified=True).exists(),
                "primary": not EmailAddress.objects.filter(user=user, primary=True).exists(),
            },
        )


def _profile(row: dict) -> dict:
    return {field: row.get(field) or "" for field in ("email", "name", "avatar", "phone")}


def wallet_import(*, row: dict, previous: ImportedRow | None) -> int:
    """`wallets` row → a User with the same casdoor_id and a wallet holding the old balance.

    A person who signed up here before the import keeps their profile; a changed old row
    brings over the fields it fills.
    """
    casdoor_id = row["casdoor_id"]
    balance = money(row.get("balance"), "balance")
    if balance < 0:
        raise BadRow(f"negative balance {balance}")
    user = User.objects.filter(casdoor_id=casdoor_id).first()
    if user is None:
        user = User.objects.create_user(casdoor_id=casdoor_id, **_profile(row))
    elif previous is not None:
        # What the old system's profile says; an empty field keeps ours.
        User.objects.filter(pk=user.pk).update(
            **{field: value for field, value in _profile(row).items() if value}
        )
    _link_sign_in(user=user, casdoor_id=casdoor_id, email=row.get("email") or "")
    _bring_balance(user=user, casdoor_id=casdoor_id, balance=balance)
    return user.pk


def _timestamps(model, pk, **values) -> None:
    """Keeps the old row's times (auto_now fields would stamp the import's time instead)."""
    values = {name: value for name, value in values.items() if value is not None}
    if values:
        model.objects.filter(pk=pk).update(**values)


def payment_import(*, row: dict, previous: ImportedRow | None) -> str:
    """`payments` row → a Payment with the same YooKassa id and status, credited by nobody."""
    status = row["status"]
    if status not in Payment.Status.values:
        raise BadRow(f"unknown status {status!r}")
    if previous is not None:
        Payment.objects.filter(pk=previous.object_id).exclude(status__in=Payment.FINAL).update(status=status)
        return previous.object_id
    user = _user(row.get("owner"))
    amount = money(row.get("amount"), "amount")
    if amount <= 0:
        raise BadRow(f"amount {amount} is not positive")
    payment = Payment.objects.create(
        user=user,
        yookassa_payment_id=row["yookassa_payment_id"],
        amount=amount,
        currency=row["currency"],
        status=status,
        description=row.get("description") or "",
        provider_object=IMPORTED_PAYMENT,
    )
    _timestamps(Payment, payment.pk, created_at=row.get("created_at"), updated_at=row.get("updated_at"))
    return str(payment.pk)


def _chat_fields(row: dict) -> dict:
    return {"model": row.get("model") or "", "title": row.get("title") or ""}


def chat_import(*, row: dict, previous: ImportedRow | None) -> int:
    if previous is not None:
        Chat.objects.filter(pk=previous.object_id).update(**_chat_fields(row))
        return int(previous.object_id)
    chat = Chat.objects.create(user=_user(row.get("owner")), **_chat_fields(row))
    # A chat list is ordered by activity: the old table may only know when a chat began.
    _timestamps(
        Chat,
        chat.pk,
        created_at=row.get("created_at"),
        updated_at=row.get("updated_at") or row.get("created_at"),
    )
    return chat.pk


def _message_fields(row: dict) -> dict:
    role = row.get("role")
    if role not in Message.Role.values:
        raise BadRow(f"unknown role {role!r}")
    return {
        "role": role,
        "content": row.get("content") or "",
        "image_url": row.get("image_url") or "",
        "attachment_url": row.get("attachment_url") or "",
        "model": row.get("model") or "",
    }


def message_import(*, row: dict, previous: ImportedRow | None) -> int:
    fields = _message_fields(row)
    if previous is not None:
        Message.objects.filter(pk=previous.object_id).update(**fields)
        return int(previous.object_id)
    chat = ImportedRow.objects.filter(table="chats", legacy_key=row.get("chat_id") or "").first()
    if chat is None or not Chat.objects.filter(pk=chat.object_id).exists():
        raise BadRow(f"chat {row.get('chat_id')!r} was not imported")
    message = Message.objects.create(chat_id=int(chat.object_id), status=Message.Status.COMPLETE, **fields)
    _timestamps(Message, message.pk, created_at=row.get("created_at"))
    return message.pk


def session_import(*, row: dict, previous: ImportedRow | None) -> str:
    """`user_sessions` row → a LegacySession (its id hashed) that signs its owner in once.

    A session already used here is never brought back: its `ImportedRow` stays.
    """
    user = _user(row.get("owner"))
    session_hash = row["session_hash"]
    if previous is not None:
        LegacySession.objects.filter(pk=session_hash).update(user=user)
    else:
        LegacySession.objects.get_or_create(
            session_hash=session_hash,
            defaults={"user": user, "created_at": row.get("created_at") or timezone.now()},
        )
    return session_hash


IMPORTERS = {
    "wallets": wallet_import,
    "payments": payment_import,
    "chats": chat_import,
    "messages": message_import,
    "user_sessions": session_import,
}


def row_import(*, table: Table, row: dict, previous: ImportedRow | None) -> Outcome:
    """One old row, in the caller's transaction; `previous` is its `ImportedRow`, if any.

    Raises:
        BadRow: the row cannot be imported as it is.
    """
    if previous is not None and previous.signature == row["signature"]:
        return Outcome.UNCHANGED
    object_id = IMPORTERS[table.name](row=row, previous=previous)
    ImportedRow.objects.update_or_create(
        table=table.name,
        legacy_key=row[table.key],
        defaults={"object_id": str(object_id), "signature": row["signature"]},
    )
    return Outcome.NEW if previous is None else Outcome.CHANGED


def rows_import(*, table: Table, rows: Iterable[dict], result: TableReport) -> Counter:
    """Each row in its own savepoint: a row that fails is refused with its key and the reason,
    and the next one goes on.

    Returns the outcomes counted by what the row was before: `new`, `changed`, `unchanged`,
    and `refused new` / `refused changed`.
    """
    outcomes: Counter = Counter()
    for row in rows:
        result.one_by_one += 1
        key = row.get(table.key)
        previous = ImportedRow.objects.filter(table=table.name, legacy_key=key).first() if key else None
        try:
            if not key:
                raise BadRow(f"no {table.key}")
            with transaction.atomic():
                outcomes[row_import(table=table, row=row, previous=previous)] += 1
        except Exception as exc:
            reason = str(exc) if isinstance(exc, BadRow) else f"{type(exc).__name__}: {exc}"
            result.refuse(key=key, reason=reason)
            outcomes["refused new" if previous is None else "refused changed"] += 1
    return outcomes
