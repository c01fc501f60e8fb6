from django.utils.functional import SimpleLazyObject

from wallets.models import Wallet


def header_wallet(request) -> dict:
    """The signed-in user's wallet for the header's balance; queried only if a page shows it."""

    def load() -> Wallet | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return Wallet.objects.filter(pk=user.pk).first()

    return {"header_wallet": SimpleLazyObject(load)}
