"""The wallet's JSON API."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from wallets import selectors
from wallets.serializers import WalletSerializer


@extend_schema(responses=WalletSerializer)
@api_view(["GET"])
def wallet(request: Request) -> Response:
    """The signed-in user's balance, the part reserved by requests in flight, and the rest."""
    return Response(WalletSerializer(selectors.wallet_of(user_id=request.user.pk)).data)
