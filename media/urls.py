from django.conf import settings
from django.urls import path, re_path

from media import api, views

urlpatterns = [
    path("media/", views.gallery, name="media_gallery"),
    path("api/upload", api.upload, name="media_upload"),
    path("api/media/generate", api.generate, name="media_generate"),
    path("api/media/generations/<uuid:generation_id>", api.generation_status, name="media_generation"),
    re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.+)$", views.local_file, name="media_local_file"),
]
