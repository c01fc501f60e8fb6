from allauth.socialaccount.admin import SocialAccountAdmin as BaseSocialAccountAdmin
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from allauth.usersessions.models import UserSession
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import services
from accounts.models import DeviceSession, User
from config.admin import Relabelled, column

# Providers are configured from the environment only; SocialApp rows would be a second,
# conflicting source of truth, and tokens are not stored.
for model in (SocialApp, SocialToken):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class SocialAccountInline(admin.TabularInline):
    model = SocialAccount
    extra = 0
    fields = ["provider", "uid", "last_login", "date_joined"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


class SyncStateFilter(admin.SimpleListFilter):
    title = _("синхронизация с Casdoor")
    parameter_name = "casdoor"

    def lookups(self, request, model_admin):
        return [("ok", _("синхронизирован")), ("error", _("с ошибкой")), ("never", _("ни разу"))]

    def queryset(self, request, queryset):
        if self.value() == "ok":
            return queryset.filter(casdoor_synced_at__isnull=False, casdoor_sync_error="")
        if self.value() == "error":
            return queryset.exclude(casdoor_sync_error="")
        if self.value() == "never":
            return queryset.filter(casdoor_synced_at__isnull=True)
        return queryset


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["-date_joined"]
    list_display = ["casdoor_id", "name", "email", "providers", "date_joined", "casdoor_synced_at", "sync_ok"]
    list_filter = [SyncStateFilter, "socialaccount__provider", "is_staff", "is_superuser", "is_active"]
    search_fields = ["casdoor_id", "name", "email", "=socialaccount__provider", "=socialaccount__uid"]
    readonly_fields = ["casdoor_synced_at", "casdoor_sync_error", "date_joined", "last_login"]
    inlines = [SocialAccountInline]
    actions = ["resync_with_casdoor"]
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

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("socialaccount_set")

    @admin.display(description=_("способы входа"))
    def providers(self, user: User) -> str:
        return ", ".join(sorted({account.provider for account in user.socialaccount_set.all()})) or "email"

    @admin.display(description=_("Casdoor в порядке"), boolean=True)
    def sync_ok(self, user: User) -> bool | None:
        if user.casdoor_sync_error:
            return False
        return True if user.casdoor_synced_at else None

    @admin.action(description=_("Синхронизировать с Casdoor"))
    def resync_with_casdoor(self, request, queryset) -> None:
        user_ids = list(queryset.values_list("pk", flat=True))
        services.user_casdoor_sync_schedule(user_ids=user_ids)
        count = len(user_ids)
        message = ngettext(
            "Синхронизация поставлена в очередь для %(count)d пользователя.",
            "Синхронизация поставлена в очередь для %(count)d пользователей.",
            count,
        )
        self.message_user(request, message % {"count": count}, messages.SUCCESS)


# allauth's models name few of their fields (Django then heads columns «User», «Ip»): ours do.
admin.site.unregister(SocialAccount)
admin.site.unregister(UserSession)


@admin.register(SocialAccount)
class SocialAccountAdmin(Relabelled, BaseSocialAccountAdmin):
    labels = {"user": _("пользователь")}
    list_display = [column("user", _("пользователь")), "uid", "provider"]


@admin.register(DeviceSession)
class DeviceSessionAdmin(Relabelled, admin.ModelAdmin):
    labels = {
        "user": _("пользователь"),
        "created_at": _("вход"),
        "ip": _("IP-адрес"),
        "last_seen_at": _("последняя активность"),
        "user_agent": _("браузер"),
        "data": _("данные"),
    }
    list_display = [
        column("user", _("пользователь")),
        column("created_at", _("вход")),
        column("last_seen_at", _("последняя активность")),
        column("ip", _("IP-адрес")),
        column("user_agent", _("браузер")),
    ]
    raw_id_fields = ["user"]
    search_fields = ["user__casdoor_id", "user__email", "ip"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # a session comes from signing in, never from a form
