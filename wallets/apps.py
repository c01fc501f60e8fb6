from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


def _create_wallet(sender, instance, created: bool, **kwargs) -> None:
    # Every user has a wallet, whichever path created them (sign-up, admin, legacy import).
    if created:
        from wallets.services import wallet_create

        wallet_create(user=instance)


class WalletsConfig(AppConfig):
    name = "wallets"
    verbose_name = _("Кошельки")

    def ready(self) -> None:
        post_save.connect(
            _create_wallet, sender=settings.AUTH_USER_MODEL, dispatch_uid="wallets.create_wallet"
        )
