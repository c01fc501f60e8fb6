from django.contrib import admin

from media.models import Generation, Upload


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "content_type", "size", "width", "height", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__email", "owner__casdoor_id"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Upload._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "model", "status", "price", "fal_request_id"]
    list_filter = ["status", "kind"]
    list_select_related = ["user"]
    search_fields = ["id", "fal_request_id", "prompt", "user__email", "user__casdoor_id"]
    date_hierarchy = "created_at"
    # Status and money move only through media.services (the hold must close with the job).
    readonly_fields = [field.name for field in Generation._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
