from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportedRow(models.Model):
    """Which row of the old database became which object here, and what it looked like then.

    The uniqueness of (table, legacy key) is what makes `import_legacy` safe to run again: a row
    already recorded is not imported twice. `signature` is the md5 of the row as the import
    read it (legacy.tables): a later run compares it with the old row's current one to tell an
    unchanged row from a changed one without reading the row itself.
    """

    table = models.CharField(_("таблица"), max_length=32)
    legacy_key = models.CharField(_("ключ в старой базе"), max_length=200)
    object_id = models.CharField(_("ID здесь"), max_length=64)
    # Null for rows recorded before signatures existed: the next run takes them as changed.
    signature = models.UUIDField(_("подпись строки"), null=True, blank=True)
    imported_at = models.DateTimeField(_("перенесено"), auto_now_add=True)

    class Meta:
        verbose_name = _("перенесённая строка")
        verbose_name_plural = _("перенесённые строки")
        constraints = [
            # Also the index every run joins the old table's keys against.
            models.UniqueConstraint(fields=["table", "legacy_key"], name="legacy_row_imported_once"),
        ]

    def __str__(self) -> str:
        return f"{self.table}:{self.legacy_key} → {self.object_id}"


class LegacySession(models.Model):
    """A sign-in to the old system, honoured here once (legacy.middleware).

    Only the sha256 of the old `session_id` cookie is stored: this table alone cannot sign
    anybody in. The row is deleted by the request that uses it, and the import never brings
    it back (its `ImportedRow` stays).
    """

    session_hash = models.CharField(_("sha256 старого session_id"), max_length=64, primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("пользователь")
    )
    # When the person signed in to the old system (or, when its table does not say, when the
    # import first saw the session): the absolute session lifetime counts from here.
    created_at = models.DateTimeField(_("вход в старую систему"))

    class Meta:
        verbose_name = _("сессия старой системы")
        verbose_name_plural = _("сессии старой системы")

    def __str__(self) -> str:
        return f"{self.session_hash[:12]}… → {self.user_id}"
