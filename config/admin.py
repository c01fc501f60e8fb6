"""What several apps' admin pages share."""

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
