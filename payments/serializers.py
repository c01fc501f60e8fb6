"""The payments API's shapes: each serializer builds the answer and describes it in the schema."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from config.api import DateTimeField, StrictSerializer
from payments.models import Payment
from wallets.models import MONEY
from wallets.serializers import WalletSerializer


def _integers_pattern(low: int, high: int) -> str:
    """A regular expression matching exactly the whole numbers low..high (no leading zeros):
    the numbers are cut into runs that share a prefix and end in free digits (100-199 is
    `1\\d{2}`), one alternative a run."""
    stops, nines = {high}, 1
    while low <= (stop := int(str(low)[:-nines] + "9" * nines)) < high:
        stops.add(stop)
        nines += 1
    zeros = 1
    while low < (stop := (high + 1) - (high + 1) % 10**zeros - 1) <= high:
        stops.add(stop)
        zeros += 1
    runs, start = [], low
    for stop in sorted(stops):
        run, free = "", 0
        for first, last in zip(str(start), str(stop), strict=True):
            if first == last:
                run += first
            elif (first, last) == ("0", "9"):
                free += 1
            else:
                run += f"[{first}-{last}]"
        runs.append(run + ("\\d" + (f"{{{free}}}" if free > 1 else "") if free else ""))
        start = stop + 1
    return "|".join(runs)


def _amount_schema() -> dict:
    """What `topup_amount_parse` accepts, exactly: kopecks within TOPUP_MIN_AMOUNT..
    TOPUP_MAX_AMOUNT, as a JSON number or as a decimal string (the top-up page sends one)."""
    low, high = settings.TOPUP_MIN_AMOUNT, settings.TOPUP_MAX_AMOUNT
    number = {"type": "number", "minimum": float(low), "maximum": float(high), "multipleOf": 0.01}
    if low != low.to_integral_value() or high != high.to_integral_value():
        # Bounds in kopecks: the string is described by its form only.
        return {"oneOf": [number, {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$"}]}
    below_high = _integers_pattern(int(low), int(high) - 1)
    pattern = rf"^(({below_high})(\.\d{{1,2}})?|{int(high)}(\.0{{1,2}})?)$"
    return {"oneOf": [number, {"type": "string", "pattern": pattern}]}


class _AmountField(serializers.Field):
    """Whatever the caller sent: `payments.services.topup_amount_parse` decides, with its own
    message for anything that is not a number of kopecks within the limits."""

    def validate_empty_values(self, data):
        if data is None:
            # null is no amount: the service refuses it with its message (the schema offers no null).
            return (False, None)
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        return data


class _AmountFieldSchema(OpenApiSerializerFieldExtension):
    target_class = _AmountField

    def map_serializer_field(self, auto_schema, direction) -> dict:
        return _amount_schema()


class TopupRequestSerializer(StrictSerializer):
    """A top-up of `amount` rubles (a number, or a decimal string as the top-up page sends it)."""

    amount = _AmountField()


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
