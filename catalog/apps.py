from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Каталог моделей")

    def ready(self) -> None:
        from django.core.cache import cache
        from django.db.models.signals import post_delete, post_save

        from catalog.models import AIModel
        from catalog.selectors import model_cache_key

        def forget(sender, instance: AIModel, **kwargs) -> None:
            cache.delete(model_cache_key(instance.model_id))

        post_save.connect(forget, sender=AIModel, weak=False, dispatch_uid="catalog-model-forget-saved")
        post_delete.connect(forget, sender=AIModel, weak=False, dispatch_uid="catalog-model-forget-deleted")
