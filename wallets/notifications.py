"""What happens after a committed balance change: the live balance reaches the user's open
pages over the websocket, and a push of the balance to Casdoor is queued. Called by
`wallets.services` through `transaction.on_commit`; neither may fail the change that already
committed, so each logs and carries on."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from wallets import casdoor_mirror
from wallets.models import Wallet
from wallets.serializers import WalletSerializer

logger = logging.getLogger(__name__)


def balance_group(user_id: int) -> str:
    return f"balance.{user_id}"


def balance_message(wallet: Wallet) -> dict:
    """The websocket's message: the wallet as `GET /api/wallet` shows it."""
    return dict(WalletSerializer(wallet).data)


def balance_changed(*, user_id: int, mirror_to_casdoor: bool = True, wallet: Wallet | None = None) -> None:
    """Pushes the wallet to the user's open pages and, when the balance itself moved (not just
    the reserved part), queues its push to Casdoor. `wallet`: the row as the committed change
    left it, when the caller has it (read otherwise)."""
    if wallet is None:
        wallet = Wallet.objects.get(pk=user_id)
    try:
        async_to_sync(get_channel_layer().group_send)(
            balance_group(user_id), {"type": "balance.update", **balance_message(wallet)}
        )
    except Exception:
        logger.exception("Could not push the balance of user %s", user_id)
    if not mirror_to_casdoor:
        return
    try:
        casdoor_mirror.balance_push_schedule(user_id=user_id)
    except Exception:
        # The broker being down must not fail a payment; reconcile_balances --push-casdoor
        # catches the mirror up.
        logger.exception("Could not queue the Casdoor balance push of user %s", user_id)
