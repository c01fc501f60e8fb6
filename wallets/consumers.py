"""The live balance: `/ws/balance/` sends the signed-in user's wallet now and after every
committed change that moves money: credits, debits, settles and releases
(`wallets.notifications.balance_changed` posts to the user's group). Placing a hold is not
pushed by itself, to keep it off the paid request's path; its settle or release sends the
whole wallet moments later."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from wallets.models import Wallet
from wallets.notifications import balance_group, balance_message


class BalanceConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Refused before the handshake completes: the browser sees close code 1006/403.
            await self.close()
            return
        self.group = balance_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        # The page may have been rendered before a change that happened while connecting.
        await self.send_json(await self._current(user.pk))

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        # The socket only speaks one way; anything the browser sends is ignored.
        return

    async def balance_update(self, event: dict) -> None:
        await self.send_json({key: event[key] for key in ("balance", "held", "available")})

    @database_sync_to_async
    def _current(self, user_id: int) -> dict:
        return balance_message(Wallet.objects.get(pk=user_id))
