from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportedRow(models.Model):
    """Which row of the old database became which object here.

    The uniqueness of (table, legacy key) is what makes `import_legacy` safe to run again:
    a row already recorded is skipped, so a second run imports only what is new.
    """

    table = models.CharField(_("таблица"), max_length=32)
    legacy_key = models.CharField(_("ключ в старой базе"), max_length=200)
    object_id = models.CharField(_("ID здесь"), max_length=64)
    imported_at = models.DateTimeField(_("перенесено"), auto_now_add=True)

    class Meta:
        verbose_name = _("перенесённая строка")
        verbose_name_plural = _("перенесённые строки")
        constraints = [
            models.UniqueConstraint(fields=["table", "legacy_key"], name="legacy_row_imported_once"),
        ]

    def __str__(self) -> str:
        return f"{self.table}:{self.legacy_key} → {self.object_id}"
