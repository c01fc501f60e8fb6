"""The Casdoor balance mirror: admins read users' balances in Casdoor, our ledger is the truth.

After every committed balance change `balance_push_schedule` queues one push per user unless
one is already waiting (a cache key, `add` being atomic), so a burst of changes collapses into
a single call. The push reads the balance when it runs, not when it was queued, and a per-user
lock keeps two pushes from overlapping, so a slow or retried push can never write an older
value over a newer one: whichever push runs last reads the latest balance.

Casdoor being down never touches money: pushes run in Celery after the commit and retry with
backoff. Casdoor versions without a `balance` column refuse it; then the push writes `score`
(whole roubles, rounded down) instead.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache

from accounts import casdoor
from accounts.models import User
from wallets import tasks
from wallets.models import Wallet

logger = logging.getLogger(__name__)


class PushInProgress(casdoor.CasdoorError):
    """Another push for this user is talking to Casdoor; like Casdoor being busy, this one
    retries shortly."""


def _pending_key(user_id: int) -> str:
    return f"wallets:casdoor-push:pending:{user_id}"


def _lock_key(user_id: int) -> str:
    return f"wallets:casdoor-push:lock:{user_id}"


def balance_push_schedule(*, user_id: int) -> None:
    """Queues a push of the user's balance to Casdoor, once per burst of changes."""
    if not casdoor.is_configured():
        return
    delay = settings.WALLET_CASDOOR_PUSH_DELAY_SECONDS
    # The key outlives the delay by a margin so a busy worker starting late still collapses.
    if cache.add(_pending_key(user_id), 1, timeout=delay + 60):
        tasks.balance_push.apply_async(args=[user_id], countdown=delay)


def balance_push(*, user_id: int) -> str | None:
    """Writes the user's current balance to Casdoor; returns the column written.

    Raises:
        PushInProgress: another push for this user holds the lock.
        casdoor.CasdoorError: Casdoor is unreachable, does not know the user yet, or refused
            both columns (the task retries).
    """
    if not casdoor.is_configured():
        return None
    # Changes committed from now on queue a new push: this one may already have read the balance.
    cache.delete(_pending_key(user_id))
    lock = _lock_key(user_id)
    # Expires on its own if a worker dies holding it; two bounded calls fit well inside.
    if not cache.add(lock, 1, timeout=int(settings.CASDOOR_TIMEOUT * 4) + 5):
        raise PushInProgress(user_id)
    try:
        return _write_balance(user_id=user_id)
    finally:
        cache.delete(lock)


def _write_balance(*, user_id: int) -> str:
    name = User.objects.values_list("casdoor_id", flat=True).get(pk=user_id)
    with casdoor.client() as client:
        existing = client.get_user(name)
        if existing is None:
            # accounts' sync adds the user; until then there is nowhere to write.
            raise casdoor.CasdoorError(f"user {name} is not in Casdoor yet")
        # Read after the slow call: the freshest balance is the one to write.
        balance = Wallet.objects.values_list("balance", flat=True).get(pk=user_id)
        # Casdoor refuses an update whose display name is empty, whatever the columns.
        base = {"displayName": existing.get("displayName") or name}
        try:
            client.update_user(name, fields={**base, "balance": float(balance)}, columns=["balance"])
            return "balance"
        except casdoor.CasdoorError as error:
            # Either this Casdoor has no `balance` column or it is failing; if the latter,
            # the score write fails too and the task retries both.
            logger.warning("Casdoor refused the balance of %s, writing score instead: %s", name, error)
        client.update_user(name, fields={**base, "score": int(balance)}, columns=["score"])
        return "score"


def mirrored_balances(*, names: list[str]) -> dict[str, tuple[str, Decimal] | None]:
    """What Casdoor shows for each user name: ("balance", value) where Casdoor has the column,
    else ("score", whole roubles); None when Casdoor has no such user.

    Raises:
        casdoor.CasdoorError: Casdoor is unreachable or not configured.
    """
    shown: dict[str, tuple[str, Decimal] | None] = {}
    with casdoor.client() as client:
        for name in names:
            user = client.get_user(name)
            try:
                if user is None:
                    shown[name] = None
                elif "balance" in user:
                    shown[name] = ("balance", Decimal(str(user["balance"] or 0)).quantize(Decimal("0.01")))
                else:
                    shown[name] = ("score", Decimal(int(user.get("score") or 0)))
            except (ArithmeticError, TypeError, ValueError) as exc:
                raise casdoor.CasdoorError(f"{name}: Casdoor shows no readable balance: {exc!r}") from exc
    return shown
