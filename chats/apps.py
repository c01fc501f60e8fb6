from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatsConfig(AppConfig):
    name = "chats"
    verbose_name = _("Чаты")

    def ready(self) -> None:
        from chats import receivers

        receivers.connect()
