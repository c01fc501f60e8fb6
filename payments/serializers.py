"""The payments API's shapes: each serializer builds the answer and describes it in the schema."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from config.api import DateTimeField
from payments.models import Payment
from wallets.models import MONEY
from wallets.serializers import WalletSerializer


@extend_schema_field(serializers.DecimalField(**MONEY))
class _AmountField(serializers.Field):
    """Whatever the caller sent: `payments.services.topup_amount_parse` decides, with its own
    message for anything that is not a number of kopecks within the limits."""

    def to_internal_value(self, data):
        return data


class TopupRequestSerializer(serializers.Serializer):
    amount = _AmountField(required=False, allow_null=True, default=None)


@extend_schema_serializer(component_name="TopupResponse")
class TopupSerializer(serializers.ModelSerializer):
    """A created top-up: the widget is rendered with its confirmation token."""

    payment_id = serializers.UUIDField(source="pk")
    confirmation_token = serializers.CharField()

    class Meta:
        model = Payment
        fields = ["payment_id", "confirmation_token"]


class PaymentStatusSerializer(serializers.ModelSerializer):
    """The user's payment and, for the top-up page's result, their wallet."""

    payment_id = serializers.UUIDField(source="pk")
    amount = serializers.DecimalField(**MONEY)
    created_at = DateTimeField()
    wallet = WalletSerializer(source="user.wallet")

    class Meta:
        model = Payment
        fields = ["payment_id", "status", "amount", "currency", "created_at", "wallet"]
