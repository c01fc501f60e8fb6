from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.static import serve

from catalog import selectors as catalog
from media import selectors, services
from wallets.formatting import format_money


@login_required
def gallery(request: HttpRequest) -> HttpResponse:
    """The user's uploads and generations, newest first, with forms to add more."""
    page = selectors.gallery_page(user=request.user, number=request.GET.get("page"))
    studio = {
        "models": [
            {"id": model.model_id, "label": f"{model.name} — {format_money(model.price_per_generation)}"}
            for model in catalog.media_models()
        ],
        "max_megabytes": services.megabytes(settings.MEDIA_UPLOAD_MAX_BYTES),
        "messages": {
            "network": _("Сеть недоступна, попробуйте ещё раз."),
            "upload": _("Загрузка"),
        },
    }
    return render(request, "media/gallery.html", {"page": page, "studio": studio})


def local_file(request: HttpRequest, path: str) -> HttpResponse:
    """A stored file, when the storage is the local disk (the zero-setup default).

    The files are our own re-encoded images and generated media under random names; with S3
    the bucket serves them and this answers 404.
    """
    if not isinstance(default_storage, FileSystemStorage):
        raise Http404
    return serve(request, path, document_root=default_storage.location)
