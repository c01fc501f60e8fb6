"""What happens after a committed balance change: the live balance reaches the user's open
pages over the websocket. Called by `wallets.services` through `transaction.on_commit`."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from wallets.models import Wallet

logger = logging.getLogger(__name__)


def balance_group(user_id: int) -> str:
    return f"balance.{user_id}"


def balance_changed(*, user_id: int) -> None:
    wallet = Wallet.objects.get(pk=user_id)
    message = {
        "type": "balance.update",
        "balance": str(wallet.balance),
        "held": str(wallet.held),
        "available": str(wallet.available),
    }
    try:
        async_to_sync(get_channel_layer().group_send)(balance_group(user_id), message)
    except Exception:
        # A push that fails must never fail the payment or charge that already committed.
        logger.exception("Could not push the balance of user %s", user_id)
