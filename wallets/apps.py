from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _

from accounts.signals import user_removing


def _create_wallet(sender, instance, created: bool, **kwargs) -> None:
    # Every user has a wallet, whichever path created them (sign-up, admin, legacy import).
    if created:
        from wallets.services import wallet_create

        wallet_create(user=instance)


def _delete_unused_wallet(sender, user, **kwargs) -> None:
    # A user is removed (accounts.services.users_unverified_remove) only while their wallet never
    # moved: an unused wallet goes first; one with entries or holds stays, and its PROTECT stops
    # the deletion.
    from wallets.models import Wallet

    Wallet.objects.filter(user=user, entries__isnull=True, holds__isnull=True).delete()


class WalletsConfig(AppConfig):
    name = "wallets"
    verbose_name = _("Кошельки")

    def ready(self) -> None:
        post_save.connect(
            _create_wallet, sender=settings.AUTH_USER_MODEL, dispatch_uid="wallets.create_wallet"
        )
        user_removing.connect(_delete_unused_wallet, dispatch_uid="wallets.delete_unused_wallet")
