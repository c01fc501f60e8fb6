"""What one reply costs the database: its billing is a handful of set-based statements (the
issue's target: at most 6 on PostgreSQL, whatever else the reply does)."""

from __future__ import annotations

import pytest

from chats.models import Message
from tests.helpers import StatementLog, fund, ledger_mismatches, send
from wallets.models import Hold

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

MAX_STATEMENTS = 6


def test_a_reply_in_an_existing_chat_takes_at_most_six_sql_statements(
    alice, chat_model, openrouter, client_for
):
    fund(alice, "100.00")
    client = client_for(alice)
    status, lines = send(client, model=chat_model.model_id, message="Hi")
    assert status == 200
    chat_id = lines[0]["chat_id"]

    with StatementLog() as log:
        # The balance line comes after the hold is settled and the reply recorded.
        status, lines = send(client, model=chat_model.model_id, message="And again", chat_id=chat_id)

    assert status == 200 and lines[-1]["type"] == "balance"
    assert len(log) <= MAX_STATEMENTS, "\n".join(log.statements)
    assert not Hold.objects.filter(status=Hold.Status.OPEN).exists()
    assert Message.objects.filter(role=Message.Role.ASSISTANT, status=Message.Status.COMPLETE).count() == 2
    assert ledger_mismatches() == []
