"""The media JSON API: uploads for vision prompts, generations and their status."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, parser_classes, throttle_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import selectors as catalog
from config.api import ErrorSerializer, FormParser, JSONParser, MultiPartParser, throttle_for
from media import services
from media.models import Generation
from media.serializers import (
    GenerateRequestSerializer,
    GenerationSerializer,
    UploadRequestSerializer,
    UploadSerializer,
)
from wallets.services import InsufficientFunds


@extend_schema(
    request={"multipart/form-data": UploadRequestSerializer},
    responses={201: UploadSerializer},
)
@api_view(["POST"])
@parser_classes([MultiPartParser, FormParser])
@throttle_classes([throttle_for("upload")])
def upload(request: Request) -> Response:
    """Stores a picture for a vision prompt (JPEG, PNG, WebP or GIF) and returns its URL."""
    fields = UploadRequestSerializer(data=request.data)
    fields.is_valid(raise_exception=True)
    try:
        stored = services.upload_create(user=request.user, file=fields.validated_data["file"])
    except services.ImageRejected as exc:
        raise ValidationError(str(exc)) from exc
    except services.UploadQuotaExceeded as exc:
        return Response(
            {"detail": str(exc)},
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(exc.retry_after)},
        )
    return Response(UploadSerializer(stored).data, status=status.HTTP_201_CREATED)


@extend_schema(
    request=GenerateRequestSerializer,
    responses={
        202: GenerationSerializer,
        402: ErrorSerializer,
        404: ErrorSerializer,
        503: GenerationSerializer,
    },
)
@api_view(["POST"])
@parser_classes([JSONParser])
@throttle_classes([throttle_for("media_generate")])
def generate(request: Request) -> Response:
    """Starts an image or video generation; answers at once, then poll its status."""
    fields = GenerateRequestSerializer(data=request.data)
    fields.is_valid(raise_exception=True)
    model = catalog.media_models().filter(model_id=fields.validated_data["model"]).first()
    if model is None:
        raise NotFound(_("Модель не найдена."))
    try:
        generation = services.generation_start(
            user=request.user, model=model, prompt=fields.validated_data["prompt"]
        )
    except services.PromptEmpty as exc:
        raise ValidationError(str(exc)) from exc
    except InsufficientFunds as exc:
        return Response({"detail": exc.message}, status=status.HTTP_402_PAYMENT_REQUIRED)
    if generation.status == Generation.Status.FAILED:
        return Response(
            {**GenerationSerializer(generation).data, "detail": generation.error},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return Response(GenerationSerializer(generation).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(responses=GenerationSerializer)
@api_view(["GET"])
def generation_status(request: Request, generation_id) -> Response:
    """The user's own generation: pending, running, completed (with its files) or failed."""
    generation = get_object_or_404(Generation, pk=generation_id, user=request.user)
    return Response(GenerationSerializer(generation).data)
