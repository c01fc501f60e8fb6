"""What the import reads from each old table, and how each value is normalised on the way.

The normalisation (trimming, defaults, truncation to our column's length, the email domain in
lower case, the session id hashed) happens in the SELECT that reads the old table
(`legacy.source`), so the set-based path and the row-by-row path receive the very same values,
and each row's signature, the md5 of those values, changes exactly when something we import
changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import User
from chats.models import Chat, Message
from payments.models import Payment


def _limit(model, field: str) -> int:
    return model._meta.get_field(field).max_length


# Django's BaseUserManager.normalize_email: the part after the last "@" in lower case.
NORMALISE_EMAIL = (
    "CASE WHEN strpos({0}, '@') > 0"
    " THEN left({0}, length({0}) - strpos(reverse({0}), '@')) || lower(right({0}, strpos(reverse({0}), '@')))"
    " ELSE {0} END"
)
# The old cookie's value never leaves the old database: only its sha256 is read.
SHA256 = "encode(sha256(convert_to({0}, 'UTF8')), 'hex')"


@dataclass(frozen=True)
class Column:
    """One value of a staged row.

    Args:
        name: its name in the stage table and in a row's dict.
        sources: old column names, the first one present wins (chats named their owner
            `user_casdoor_id` or `user_id`); none present reads as NULL.
        type: `text` or `timestamptz` (old timestamps without a zone are read as UTC).
        trim: strip surrounding whitespace (not done to message text, where it is content).
        expression: SQL applied to the trimmed text, `{0}` standing for it.
        default: what an empty or missing value becomes.
        limit: the length of our column; longer values are cut.
    """

    name: str
    sources: tuple[str, ...] = ()
    type: str = "text"
    trim: bool = True
    expression: str = ""
    default: str | None = None
    limit: int | None = None

    @property
    def old_names(self) -> tuple[str, ...]:
        return self.sources or (self.name,)


@dataclass(frozen=True)
class Table:
    """An old table: its identifying column (ours), the columns read, and whether a delta run
    reads only keys and signatures first (a table whose rows are large)."""

    name: str
    key: str
    columns: tuple[Column, ...]
    keys_first: bool = False

    @property
    def key_column(self) -> Column:
        return next(column for column in self.columns if column.name == self.key)


TIMESTAMP = {"type": "timestamptz", "trim": False}

WALLETS = Table(
    "wallets",
    key="casdoor_id",
    columns=(
        Column("casdoor_id"),
        Column("email", expression=NORMALISE_EMAIL, limit=_limit(User, "email")),
        Column("name", limit=_limit(User, "name")),
        Column("avatar", limit=_limit(User, "avatar")),
        Column("phone", limit=_limit(User, "phone")),
        Column("balance"),
    ),
)
PAYMENTS = Table(
    "payments",
    key="yookassa_payment_id",
    columns=(
        Column("yookassa_payment_id"),
        Column("owner", sources=("user_id",)),
        Column("amount"),
        Column("status", default=Payment.Status.PENDING),
        Column("currency", default="RUB"),
        Column("description", limit=_limit(Payment, "description")),
        Column("created_at", **TIMESTAMP),
        Column("updated_at", **TIMESTAMP),
    ),
)
CHATS = Table(
    "chats",
    key="id",
    columns=(
        Column("id"),
        Column("owner", sources=("user_casdoor_id", "user_id")),
        Column("model", limit=_limit(Chat, "model")),
        Column("title", limit=_limit(Chat, "title")),
        Column("created_at", **TIMESTAMP),
        Column("updated_at", **TIMESTAMP),
    ),
)
MESSAGES = Table(
    "messages",
    key="id",
    columns=(
        Column("id"),
        Column("chat_id"),
        Column("role"),
        Column("content", trim=False),
        Column("image_url", limit=_limit(Message, "image_url")),
        Column("attachment_url", limit=_limit(Message, "attachment_url")),
        Column("model", limit=_limit(Message, "model")),
        Column("created_at", **TIMESTAMP),
    ),
    keys_first=True,
)
USER_SESSIONS = Table(
    "user_sessions",
    key="session_hash",
    columns=(
        Column("session_hash", sources=("session_id",), expression=SHA256),
        # The old system stored the casdoor_id in `token`.
        Column("owner", sources=("token",)),
        Column("created_at", **TIMESTAMP),
    ),
)

# In import order: users first, then what refers to them.
TABLES = (WALLETS, PAYMENTS, CHATS, MESSAGES, USER_SESSIONS)
