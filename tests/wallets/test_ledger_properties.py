"""A stateful property test of the money core: random sequences of every operation that moves
money, against PostgreSQL, with the ledger's invariants checked after every step.

Operations: credit, debit, hold, settle (below, at and above the hold), release, expiry, staff
adjustment, a YooKassa top-up and its refund (through `payments.services` and the fake YooKassa),
a reference used twice (same operation, or a different one), and holds placed from several
threads at once. Invariants, per wallet and overall:

- balance == the sum of its ledger entries, and 0 <= held <= balance;
- held == the sum of its open holds;
- every reference names one ledger entry (the UNIQUE constraint) and one hold;
- a closed hold charged at most what it reserved, and its charge is its ledger entry;
- every refund that is not canceled has its debit, and a payment's refunds never exceed it;
- the model kept alongside (what we expect each balance to be) agrees with the database.

`HYPOTHESIS_LEDGER_EXAMPLES` sets how many random sequences run (200 by default, as in CI).
"""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, Phase, assume, note
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from accounts.models import User
from payments import services as payments
from payments.models import Payment, Refund
from tests.fakes.server import FakeServer
from tests.fakes.yookassa import SECRET_KEY, SHOP_ID, FakeYooKassa, YooKassaHandler
from wallets import services
from wallets.models import Hold, LedgerEntry, Wallet

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

EXAMPLES = int(os.environ.get("HYPOTHESIS_LEDGER_EXAMPLES", "200"))
amounts = st.integers(min_value=1, max_value=50_000).map(lambda kopecks: Decimal(kopecks) / 100)


class LedgerMachine(RuleBasedStateMachine):
    """One random sequence; `yookassa` is set by the test before the machine runs."""

    yookassa: FakeYooKassa
    examples = 0

    wallets = Bundle("wallets")
    open_holds = Bundle("open_holds")
    references = Bundle("references")
    payments_made = Bundle("payments")

    def __init__(self) -> None:
        super().__init__()
        type(self).examples += 1
        self.serial = 0
        self.expected: dict[int, Decimal] = {}
        self.user_ids: list[int] = []

    def _reference(self, kind: str) -> str:
        self.serial += 1
        return f"prop:{type(self).examples}:{kind}:{self.serial}"

    # Wallets ------------------------------------------------------------------------------------
    @rule(target=wallets)
    def open_wallet(self):
        user = User.objects.create_user(casdoor_id=f"email_prop_{type(self).examples}_{len(self.user_ids)}")
        services.wallet_create(user=user)
        self.user_ids.append(user.pk)
        self.expected[user.pk] = Decimal(0)
        return user.pk

    # Plain credits and debits -------------------------------------------------------------------
    @rule(target=references, wallet=wallets, amount=amounts)
    def credit(self, wallet, amount):
        reference = self._reference("credit")
        services.wallet_credit(user=wallet, amount=amount, reference=reference)
        self.expected[wallet] += amount
        return (reference, wallet, amount)

    @rule(wallet=wallets, amount=amounts)
    def debit(self, wallet, amount):
        available = self._available(wallet)
        try:
            services.wallet_debit(user=wallet, amount=amount, reference=self._reference("debit"))
        except services.InsufficientFunds:
            assert amount > available
            return
        assert amount <= available
        self.expected[wallet] -= amount

    @rule(wallet=wallets, amount=amounts, negative=st.booleans())
    def adjust(self, wallet, amount, negative):
        signed = -amount if negative else amount
        available = self._available(wallet)
        try:
            services.wallet_adjust(
                user=wallet,
                amount=signed,
                reason="property test",
                staff=None,
                reference=self._reference("adj"),
            )
        except services.InsufficientFunds:
            assert negative and amount > available
            return
        self.expected[wallet] += signed

    @rule(previous=references)
    def credit_the_same_reference_again(self, previous):
        reference, wallet, amount = previous
        entry = services.wallet_credit(user=wallet, amount=amount, reference=reference)
        assert (entry.wallet_id, entry.amount) == (wallet, amount)  # the first one's, nothing new

    @rule(previous=references, other=wallets, extra=amounts)
    def reuse_a_reference_for_something_else(self, previous, other, extra):
        reference, wallet, amount = previous
        assume((other, extra) != (wallet, amount))
        with pytest.raises(services.ReferenceConflict):
            services.wallet_credit(user=other, amount=extra, reference=reference)

    # Holds --------------------------------------------------------------------------------------
    @rule(target=open_holds, wallet=wallets, amount=amounts)
    def hold(self, wallet, amount):
        available = self._available(wallet)
        reference = self._reference("hold")
        try:
            services.hold_place(user=wallet, amount=amount, reference=reference)
        except services.InsufficientFunds:
            assert amount > available
            return None
        assert amount <= available
        # Placing it again returns the same hold and reserves nothing more.
        assert services.hold_place(user=wallet, amount=amount, reference=reference).amount == amount
        return (reference, wallet, amount)

    @rule(hold=consumes(open_holds), share=st.sampled_from(["none", "below", "at", "above"]))
    def settle(self, hold, share):
        if hold is None:
            return
        reference, wallet, amount = hold
        cost = {"none": Decimal(0), "below": amount / 3, "at": amount, "above": amount * 2}[share]
        settled = services.hold_settle(reference=reference, amount=cost)
        charge = min(services.round_up_to_kopeck(cost), amount)
        if settled.status == Hold.Status.SETTLED and settled.closed_at is not None:
            assert settled.charged == charge
            self.expected[wallet] -= charge
        # Settling again changes nothing.
        assert services.hold_settle(reference=reference, amount=cost).charged == settled.charged

    @rule(hold=consumes(open_holds))
    def release(self, hold):
        if hold is None:
            return
        released = services.hold_release(reference=hold[0])
        assert (released.status, released.charged) == (Hold.Status.RELEASED, 0)

    @rule(hold=consumes(open_holds))
    def expire(self, hold):
        if hold is None:
            return
        Hold.objects.filter(reference=hold[0]).update(expires_at=timezone.now() - timedelta(seconds=1))
        assert services.holds_expire() >= 1
        assert Hold.objects.get(reference=hold[0]).status == Hold.Status.RELEASED

    @rule(wallet=wallets, amount=amounts, share=st.sampled_from(["below", "at"]))
    def settle_and_release_at_once(self, wallet, amount, share):
        """A reply's settle racing the expiry sweep's release: exactly one of them closes it."""
        reference = self._reference("race-close")
        try:
            services.hold_place(user=wallet, amount=amount, reference=reference)
        except services.InsufficientFunds:
            return
        cost = amount if share == "at" else amount / 3
        barrier = threading.Barrier(2)

        def close(operation) -> None:
            try:
                barrier.wait()
                operation()
            finally:
                connection.close()

        workers = [
            threading.Thread(
                target=close, args=(lambda: services.hold_settle(reference=reference, amount=cost),)
            ),
            threading.Thread(target=close, args=(lambda: services.hold_release(reference=reference),)),
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        closed = Hold.objects.get(reference=reference)
        note(f"settle raced release: {closed.status}, charged {closed.charged}")
        assert closed.status in (Hold.Status.SETTLED, Hold.Status.RELEASED)
        self.expected[wallet] -= closed.charged

    @rule(wallet=wallets, amount=amounts, threads=st.integers(min_value=2, max_value=6))
    def holds_from_threads_at_once(self, wallet, amount, threads):
        available = self._available(wallet)
        barrier = threading.Barrier(threads)
        placed: list[str] = []
        lock = threading.Lock()

        def place(index: int) -> None:
            reference = self._reference(f"race{index}")
            try:
                barrier.wait()
                services.hold_place(user=wallet, amount=amount, reference=reference)
                with lock:
                    placed.append(reference)
            except services.InsufficientFunds:
                pass
            finally:
                connection.close()

        workers = [threading.Thread(target=place, args=(index,)) for index in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        note(f"{len(placed)} of {threads} holds of {amount} fit into {available}")
        assert len(placed) == min(threads, int(available // amount))
        for reference in placed:
            services.hold_release(reference=reference)

    # Top-ups and refunds (payments.services, the fake YooKassa) ----------------------------------
    @rule(target=payments_made, wallet=wallets, rubles=st.integers(min_value=100, max_value=3000))
    def top_up(self, wallet, rubles):
        user = User.objects.get(pk=wallet)
        payment = payments.payment_create(user=user, amount=Decimal(rubles))
        provider_object = self.yookassa.succeed(payment.yookassa_payment_id)
        for _ in range(2):  # delivered twice, credited once
            payments.payment_apply(provider_object=provider_object)
        self.expected[wallet] += Decimal(rubles)
        return payment.pk

    @rule(payment=payments_made, share=st.sampled_from(["quarter", "half", "all", "more"]))
    def refund(self, payment, share):
        payment = Payment.objects.get(pk=payment)
        amount = {"quarter": payment.amount / 4, "half": payment.amount / 2, "all": payment.amount}.get(
            share, payment.amount + 1
        )
        amount = services.round_up_to_kopeck(amount)
        refundable = payments.refundable_amount(payment=payment)
        available = self._available(payment.user_id)
        try:
            payments.refund_create(payment=payment, amount=amount, created_by=None)
        except payments.RefundNotAllowed:
            assert amount > refundable
            return
        except services.InsufficientFunds:
            assert amount > available
            return
        assert amount <= min(refundable, available)
        self.expected[payment.user_id] -= amount

    # Invariants ---------------------------------------------------------------------------------
    def _available(self, wallet: int) -> Decimal:
        state = Wallet.objects.get(pk=wallet)
        return state.balance - state.held

    @invariant()
    def the_ledger_explains_every_wallet(self):
        entries = dict(
            LedgerEntry.objects.filter(wallet_id__in=self.user_ids)
            .values("wallet_id")
            .annotate(total=Sum("amount"))
            .values_list("wallet_id", "total")
        )
        held = dict(
            Hold.objects.filter(wallet_id__in=self.user_ids, status=Hold.Status.OPEN)
            .values("wallet_id")
            .annotate(total=Sum("amount"))
            .values_list("wallet_id", "total")
        )
        for wallet, balance, reserved in Wallet.objects.filter(pk__in=self.user_ids).values_list(
            "pk", "balance", "held"
        ):
            assert balance == entries.get(wallet, 0), f"balance {balance} != entries {entries.get(wallet)}"
            assert 0 <= reserved <= balance, (reserved, balance)
            assert reserved == held.get(wallet, 0), f"held {reserved} != open holds {held.get(wallet)}"
            assert balance == self.expected[wallet], (balance, self.expected[wallet])

    @invariant()
    def references_are_used_once_and_holds_charge_what_they_reserved(self):
        references = list(
            LedgerEntry.objects.filter(wallet_id__in=self.user_ids).values_list("reference", flat=True)
        )
        assert len(references) == len(set(references)), "a reference names two ledger entries"
        charges = dict(
            LedgerEntry.objects.filter(wallet_id__in=self.user_ids, kind=LedgerEntry.Kind.CHARGE).values_list(
                "reference", "amount"
            )
        )
        for reference, amount, charged in (
            Hold.objects.filter(wallet_id__in=self.user_ids)
            .exclude(status=Hold.Status.OPEN)
            .values_list("reference", "amount", "charged")
        ):
            assert 0 <= charged <= amount, (reference, charged, amount)
            assert charges.get(reference, Decimal(0)) == -charged, (
                reference,
                charges.get(reference),
                charged,
            )

    @invariant()
    def refunds_have_their_debits_and_fit_their_payments(self):
        refunds = list(
            Refund.objects.filter(payment__user_id__in=self.user_ids)
            .exclude(status=Refund.Status.CANCELED)
            .values_list("pk", "payment_id", "amount", "payment__amount")
        )
        if not refunds:
            return
        debits = dict(
            LedgerEntry.objects.filter(reference__in=[f"refund:{pk}" for pk, *_ in refunds]).values_list(
                "reference", "amount"
            )
        )
        refunded: dict = {}
        for pk, payment, amount, paid in refunds:
            assert debits.get(f"refund:{pk}") == -amount, f"refund {pk} of {amount} has no debit"
            refunded[payment] = refunded.get(payment, Decimal(0)) + amount
            assert refunded[payment] <= paid, f"payment {payment}: {refunded[payment]} refunded of {paid}"


def test_money_moves_only_as_the_ledger_says(settings):
    server = FakeServer(YooKassaHandler).start()
    server.yookassa = fake = FakeYooKassa(server)
    settings.YOOKASSA_API_URL = fake.url
    settings.YOOKASSA_SHOP_ID = SHOP_ID
    settings.YOOKASSA_SECRET_KEY = SECRET_KEY
    settings.TOPUP_MAX_AMOUNT = Decimal(django_settings.TOPUP_MAX_AMOUNT)
    LedgerMachine.yookassa = fake
    LedgerMachine.examples = 0
    try:
        run_state_machine_as_test(
            LedgerMachine,
            settings=hypothesis_settings(
                max_examples=EXAMPLES,
                stateful_step_count=25,
                deadline=None,
                derandomize=not os.environ.get("HYPOTHESIS_LEDGER_RANDOM"),
                database=None,
                # HYPOTHESIS_LEDGER_FIRST_FAILURE=1: stop at the first failing sequence (no
                # shrinking), to count how many sequences a planted bug takes to be caught.
                phases=[Phase.explicit, Phase.generate]
                if os.environ.get("HYPOTHESIS_LEDGER_FIRST_FAILURE")
                else list(Phase),
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        print(f"ledger property test: {LedgerMachine.examples} sequences run")
        server.stop()
