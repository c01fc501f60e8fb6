"""The wallet's one shape, wherever it is shown: `GET /api/wallet`, a payment's status and the
live-balance websocket. Decimal strings, as DESIGN.md fixes them."""

from rest_framework import serializers

from wallets.models import MONEY, Wallet


class WalletSerializer(serializers.ModelSerializer):
    balance = serializers.DecimalField(**MONEY)
    held = serializers.DecimalField(**MONEY)
    available = serializers.DecimalField(**MONEY)

    class Meta:
        model = Wallet
        fields = ["balance", "held", "available"]
