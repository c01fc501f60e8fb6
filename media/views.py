from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.static import serve
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.models import AIModel
from media import selectors, services
from media.models import Generation
from wallets.services import InsufficientFunds


def generation_json(generation: Generation) -> dict:
    return {
        "id": str(generation.pk),
        "status": generation.status,
        "model": generation.model,
        "kind": generation.kind,
        "prompt": generation.prompt,
        "price": str(generation.price),
        "result_urls": generation.result_urls,
        "error": generation.error,
        "message_id": generation.message_id,
        "created_at": generation.created_at.isoformat(),
    }


_GENERATION_SCHEMA = inline_serializer(
    "Generation",
    {
        "id": serializers.UUIDField(),
        "status": serializers.ChoiceField(choices=Generation.Status.values),
        "model": serializers.CharField(),
        "kind": serializers.CharField(),
        "prompt": serializers.CharField(),
        "price": serializers.CharField(),
        "result_urls": serializers.ListField(child=serializers.URLField()),
        "error": serializers.CharField(),
        "message_id": serializers.IntegerField(allow_null=True),
        "created_at": serializers.DateTimeField(),
    },
)


@extend_schema(
    request={"multipart/form-data": inline_serializer("UploadRequest", {"file": serializers.ImageField()})},
    responses={201: inline_serializer("UploadResponse", {"url": serializers.URLField()})},
)
@api_view(["POST"])
@parser_classes([MultiPartParser, FormParser])
def upload(request: Request) -> Response:
    """Stores a picture for a vision prompt (JPEG, PNG, WebP or GIF) and returns its URL."""
    file = request.FILES.get("file")
    if file is None:
        raise ValidationError(_("Выберите файл изображения."))
    try:
        stored = services.upload_create(user=request.user, file=file)
    except services.ImageRejected as exc:
        raise ValidationError(str(exc)) from exc
    return Response({"url": stored.url}, status=status.HTTP_201_CREATED)


class _GenerateRequest(serializers.Serializer):
    model = serializers.CharField(max_length=200)
    prompt = serializers.CharField(max_length=4000, allow_blank=True)


@extend_schema(
    request=_GenerateRequest,
    responses={202: _GENERATION_SCHEMA, 402: None, 404: None, 503: _GENERATION_SCHEMA},
)
@api_view(["POST"])
@parser_classes([JSONParser])
def generate(request: Request) -> Response:
    """Starts an image or video generation; answers at once, then poll its status."""
    fields = _GenerateRequest(data=request.data)
    fields.is_valid(raise_exception=True)
    model = AIModel.objects.filter(
        model_id=fields.validated_data["model"],
        enabled=True,
        kind__in=[AIModel.Kind.IMAGE, AIModel.Kind.VIDEO],
    ).first()
    if model is None:
        raise NotFound(_("Модель не найдена."))
    try:
        generation = services.generation_start(
            user=request.user, model=model, prompt=fields.validated_data["prompt"]
        )
    except services.PromptEmpty as exc:
        raise ValidationError(str(exc)) from exc
    except InsufficientFunds:
        return Response(
            {"detail": _("Недостаточно средств: пополните баланс.")}, status=status.HTTP_402_PAYMENT_REQUIRED
        )
    if generation.status == Generation.Status.FAILED:
        return Response(
            {**generation_json(generation), "detail": generation.error},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return Response(generation_json(generation), status=status.HTTP_202_ACCEPTED)


@extend_schema(responses=_GENERATION_SCHEMA)
@api_view(["GET"])
def generation_status(request: Request, generation_id) -> Response:
    """The user's own generation: pending, running, completed (with its files) or failed."""
    return Response(generation_json(get_object_or_404(Generation, pk=generation_id, user=request.user)))


@login_required
def gallery(request: HttpRequest) -> HttpResponse:
    """The user's uploads and generations, newest first, with forms to add more."""
    page = selectors.gallery_page(user=request.user, number=request.GET.get("page"))
    models = AIModel.objects.filter(enabled=True, kind__in=[AIModel.Kind.IMAGE, AIModel.Kind.VIDEO])
    studio = {
        "models": [
            {"id": model.model_id, "label": f"{model.name} — {model.price_per_generation} ₽"}
            for model in models
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
