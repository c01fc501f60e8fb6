"""What several apps' admin pages share."""

from collections.abc import Callable

from django.contrib import admin
from django.http import HttpRequest


class ReadOnly:
    """For a ModelAdmin or an inline: nothing is added, changed or deleted from admin (records of
    money that moved, or of what a provider told us)."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def column(field: str, label) -> Callable:
    """A change-list column showing `field` under `label`, sortable by it: for third-party models
    whose fields name nothing, so Django would head the column with the field's English name."""
    return admin.display(description=label, ordering=field)(lambda obj: getattr(obj, field))


class Relabelled:
    """For a ModelAdmin of a third-party model: `labels` (field → label) names its fields in the
    change form."""

    labels: dict = {}

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        kwargs["labels"] = {**self.labels, **kwargs.get("labels", {})}
        return super().get_form(request, obj, change, **kwargs)
