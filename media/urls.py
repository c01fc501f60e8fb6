from django.conf import settings
from django.urls import path, re_path

from media import views

urlpatterns = [
    path("media/", views.gallery, name="media_gallery"),
    path("api/upload", views.upload, name="media_upload"),
    path("api/media/generate", views.generate, name="media_generate"),
    path("api/media/generations/<uuid:generation_id>", views.generation_status, name="media_generation"),
    # Only names media.services gives files (folder/YYYY/MM/<uuid>.<ext>): nothing else under
    # MEDIA_ROOT, whatever an operator puts there, is ever served.
    re_path(
        rf"^{settings.MEDIA_URL.strip('/')}/"
        r"(?P<path>(?:uploads|generations)/\d{4}/\d{2}/[0-9a-f-]{36}\.(?:jpg|png|webp|gif|mp4|webm))$",
        views.local_file,
        name="media_local_file",
    ),
]
