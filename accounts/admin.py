from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["-date_joined"]
    list_display = ["casdoor_id", "name", "email", "is_staff", "date_joined", "casdoor_synced_at"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["casdoor_id", "name", "email"]
    readonly_fields = ["casdoor_synced_at", "casdoor_sync_error", "date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["casdoor_id", "password"]}),
        (_("Профиль"), {"fields": ["name", "email", "avatar", "phone"]}),
        (_("Casdoor"), {"fields": ["casdoor_synced_at", "casdoor_sync_error"]}),
        (_("Права"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Даты"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["casdoor_id", "email", "password1", "password2"]})
    ]
