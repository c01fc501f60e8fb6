"""A reply that ended without usage is charged from OpenRouter's record of its generation; when
that record cannot be had (garbage under HTTP 200, a 500, no answer in time), the settle task
retries and then charges an estimate. Its hold is closed either way: never left for the expiry
sweep to release for free."""

from __future__ import annotations

import pytest

from chats.models import Message
from chats.tasks import SETTLE_RETRIES
from tests.helpers import fund, ledger_mismatches, send
from wallets.models import Hold, LedgerEntry

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("answer", ["html", "not-an-object", "no-counts", "error", "hang"])
def test_an_unusable_generation_record_still_closes_the_hold_with_an_estimated_charge(
    alice, chat_model, openrouter, client_for, settings, answer
):
    settings.OPENROUTER_READ_TIMEOUT = 0.3
    fund(alice, "100.00")
    openrouter.tokens = ["abcd", "efgh", "ijkl"]
    openrouter.error_after = 2  # the model fails mid-stream: no usage in the stream
    openrouter.generation_answer = answer

    send(client_for(alice), model=chat_model.model_id, message="Hi")

    reply = Message.objects.get(role=Message.Role.ASSISTANT)
    hold = Hold.objects.get()
    assert len(openrouter.generation_requests()) == SETTLE_RETRIES + 1
    assert hold.status == Hold.Status.SETTLED
    charge = LedgerEntry.objects.get(reference=f"msg:{reply.pk}")
    assert charge.amount == -reply.cost
    assert 0 < reply.cost <= hold.amount
    assert ledger_mismatches() == []


def test_a_record_that_arrives_after_garbage_is_used(alice, chat_model, openrouter, client_for):
    """OpenRouter's maintenance page first, then the record: the record's tokens are charged."""
    fund(alice, "100.00")
    openrouter.tokens = ["abcd", "efgh", "ijkl"]
    openrouter.error_after = 2
    openrouter.generation_answer = "html"
    asked = []

    def recover(request) -> None:
        asked.append(request)
        if len(asked) == 2:
            openrouter.generation_answer = None

    openrouter.server.on_request = recover

    send(client_for(alice), model=chat_model.model_id, message="Hi")

    reply = Message.objects.get(role=Message.Role.ASSISTANT)
    assert (reply.tokens_in, reply.tokens_out) == (openrouter.prompt_tokens, 2)
    assert Hold.objects.get().status == Hold.Status.SETTLED
