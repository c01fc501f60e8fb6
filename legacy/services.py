"""Turning the old system's rows into ours, one row at a time, each safe to repeat.

A row already imported (recorded in `ImportedRow`) is skipped, except where the old system
may have moved on between a rehearsal run and the final one: a changed balance is brought in
as a correcting `adjustment` entry, and a payment that reached a final state takes that state,
never crediting anything (the old balance already contains every succeeded payment).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.db.models import Q, Sum

from accounts.models import User
from chats.models import Chat, Message
from legacy.models import ImportedRow
from payments.models import Payment
from wallets.models import LedgerEntry
from wallets.services import wallet_credit, wallet_debit

SOCIAL_PROVIDERS = {"vk", "google", "yandex", "telegram"}


class BadRow(Exception):
    """The row cannot be imported as it is; it is reported and skipped."""


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    SKIPPED = "skipped"


@dataclass
class Imported:
    """Keys already imported, per old table, loaded once per run."""

    keys: dict[str, dict[str, str]]

    @classmethod
    def load(cls) -> Imported:
        keys: dict[str, dict[str, str]] = {}
        for table, legacy_key, object_id in ImportedRow.objects.values_list(
            "table", "legacy_key", "object_id"
        ):
            keys.setdefault(table, {})[legacy_key] = object_id
        return cls(keys)

    def get(self, table: str, key: str) -> str | None:
        return self.keys.get(table, {}).get(key)

    def record(self, table: str, key: str, object_id) -> None:
        ImportedRow.objects.create(table=table, legacy_key=key, object_id=str(object_id))
        self.keys.setdefault(table, {})[key] = str(object_id)


def _text(row: dict, column: str, limit: int | None = None) -> str:
    value = row.get(column)
    value = "" if value is None else str(value).strip()
    return value[:limit] if limit else value


def _money(value, what: str) -> Decimal:
    try:
        amount = Decimal(str(value if value is not None else 0))
    except InvalidOperation:
        raise BadRow(f"{what} is not a number: {value!r}") from None
    if amount != amount.quantize(Decimal("0.01")):
        raise BadRow(f"{what} has fractions of a kopeck: {amount}")
    return amount


def _key(row: dict, column: str) -> str:
    key = _text(row, column)
    if not key:
        raise BadRow(f"no {column}")
    return key


def _legacy_entries(user: User):
    reference = f"legacy:{user.casdoor_id}"
    return LedgerEntry.objects.filter(Q(reference=reference) | Q(reference__startswith=f"{reference}:"))


def _bring_balance(*, user: User, balance: Decimal) -> bool:
    """Makes the legacy entries of `user` add up to the old balance; True if it wrote one."""
    entries = _legacy_entries(user)
    delta = balance - (entries.aggregate(total=Sum("amount"))["total"] or Decimal(0))
    if delta == 0:
        return False
    n = entries.count()
    # The first entry is `legacy:<casdoor_id>`; corrections after a rehearsal run number on.
    reference = f"legacy:{user.casdoor_id}" if n == 0 else f"legacy:{user.casdoor_id}:{n}"
    change = wallet_credit if delta > 0 else wallet_debit
    change(
        user=user,
        amount=abs(delta),
        reference=reference,
        kind=LedgerEntry.Kind.ADJUSTMENT,
        description="Остаток из старой системы",
    )
    return True


def _link_sign_in(user: User) -> None:
    """Links the way the person signed in to the old system, so the next sign-in finds them."""
    provider, _, uid = user.casdoor_id.partition("_")
    if provider in SOCIAL_PROVIDERS and uid:
        SocialAccount.objects.get_or_create(provider=provider, uid=uid, defaults={"user": user})
    elif provider == "email" and user.email:
        # The old system confirmed the address by code; another account may have verified it
        # already (it is then left unverified here rather than failing the row).
        taken = EmailAddress.objects.filter(email__iexact=user.email, verified=True).exists()
        EmailAddress.objects.get_or_create(
            user=user, email=user.email.lower(), defaults={"verified": not taken, "primary": True}
        )


def wallet_row_import(*, row: dict, imported: Imported) -> Outcome:
    """`wallets` row → a User with the same casdoor_id and a wallet holding the old balance."""
    casdoor_id = _key(row, "casdoor_id")
    balance = _money(row.get("balance"), "balance")
    if balance < 0:
        raise BadRow(f"negative balance {balance}")
    if imported.get("wallets", casdoor_id):
        user = User.objects.get(casdoor_id=casdoor_id)
        return Outcome.UPDATED if _bring_balance(user=user, balance=balance) else Outcome.SKIPPED
    user = User.objects.filter(casdoor_id=casdoor_id).first()
    if user is None:
        user = User.objects.create_user(
            casdoor_id=casdoor_id,
            email=_text(row, "email", 254),
            name=_text(row, "name", 150),
            avatar=_text(row, "avatar", 1000),
            phone=_text(row, "phone", 32),
        )
    _link_sign_in(user)
    _bring_balance(user=user, balance=balance)
    imported.record("wallets", casdoor_id, user.pk)
    return Outcome.CREATED


def _timestamps(obj, row: dict, *fields: str) -> None:
    """Keeps the old row's times (auto_now fields would stamp the import's time instead)."""
    values = {field: row[field] for field in fields if row.get(field) is not None}
    if values:
        type(obj).objects.filter(pk=obj.pk).update(**values)


def payment_row_import(*, row: dict, imported: Imported) -> Outcome:
    """`payments` row → a Payment with the same YooKassa id and status, credited by nobody."""
    payment_id = _key(row, "yookassa_payment_id")
    status = _text(row, "status") or Payment.Status.PENDING
    if status not in Payment.Status.values:
        raise BadRow(f"unknown status {status!r}")
    existing = imported.get("payments", payment_id)
    if existing:
        payment = Payment.objects.get(pk=existing)
        if payment.status != status and payment.status not in Payment.FINAL:
            Payment.objects.filter(pk=payment.pk).update(status=status)
            return Outcome.UPDATED
        return Outcome.SKIPPED
    user = User.objects.filter(casdoor_id=_key(row, "user_id")).first()
    if user is None:
        raise BadRow(f"no user {row.get('user_id')!r}")
    amount = _money(row.get("amount"), "amount")
    if amount <= 0:
        raise BadRow(f"amount {amount} is not positive")
    payment = Payment.objects.create(
        user=user,
        yookassa_payment_id=payment_id,
        amount=amount,
        currency=_text(row, "currency") or "RUB",
        status=status,
        description=_text(row, "description", 128),
        # The old system already put succeeded payments into the balance it had.
        provider_object={"imported_from_legacy": True},
    )
    _timestamps(payment, row, "created_at", "updated_at")
    imported.record("payments", payment_id, payment.pk)
    return Outcome.CREATED


def chat_row_import(*, row: dict, imported: Imported) -> Outcome:
    key = _key(row, "id")
    if imported.get("chats", key):
        return Outcome.SKIPPED
    owner = _text(row, "user_casdoor_id") or _text(row, "user_id")
    user = User.objects.filter(casdoor_id=owner).first()
    if user is None:
        raise BadRow(f"no user {owner!r}")
    chat = Chat.objects.create(user=user, model=_text(row, "model", 200), title=_text(row, "title", 200))
    _timestamps(chat, row, "created_at", "updated_at")
    imported.record("chats", key, chat.pk)
    return Outcome.CREATED


def message_row_import(*, row: dict, imported: Imported) -> Outcome:
    key = _key(row, "id")
    if imported.get("messages", key):
        return Outcome.SKIPPED
    chat_id = imported.get("chats", _key(row, "chat_id"))
    if chat_id is None:
        raise BadRow(f"chat {row.get('chat_id')!r} was not imported")
    role = _text(row, "role")
    if role not in Message.Role.values:
        raise BadRow(f"unknown role {role!r}")
    message = Message.objects.create(
        chat_id=int(chat_id),
        role=role,
        content=_text(row, "content"),
        image_url=_text(row, "image_url", 1000),
        attachment_url=_text(row, "attachment_url", 1000),
        model=_text(row, "model", 200),
        status=Message.Status.COMPLETE,
    )
    _timestamps(message, row, "created_at")
    imported.record("messages", key, message.pk)
    return Outcome.CREATED


IMPORTERS = {
    "wallets": wallet_row_import,
    "payments": payment_row_import,
    "chats": chat_row_import,
    "messages": message_row_import,
}


def imported_opening_total() -> Decimal:
    return LedgerEntry.objects.filter(reference__startswith="legacy:").aggregate(total=Sum("amount"))[
        "total"
    ] or Decimal(0)
