import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, throttle_classes
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import ErrorSerializer, throttle_for
from config.net import client_ip, in_networks
from payments import services, yookassa
from payments.models import Payment
from payments.serializers import PaymentStatusSerializer, TopupRequestSerializer, TopupSerializer

logger = logging.getLogger(__name__)


class _TooManyPending(APIException):
    status_code = 429

    def __init__(self, wait: int) -> None:
        # DRF's handler sends `wait` as Retry-After.
        self.wait = wait
        super().__init__(
            _(
                "У вас уже есть неоплаченные пополнения: завершите одно из них или повторите через %(seconds)s с."
            )
            % {"seconds": wait}
        )


class _PaymentsUnavailable(APIException):
    status_code = 503
    default_detail = gettext_lazy("Платёжная система недоступна, попробуйте позже.")


@extend_schema(request=TopupRequestSerializer, responses={200: TopupSerializer, 503: ErrorSerializer})
@api_view(["POST"])
@throttle_classes([throttle_for("payment_create")])
def payment_create(request: Request) -> Response:
    """Creates a top-up payment; the page renders YooKassa's widget with the token."""
    fields = TopupRequestSerializer(data=request.data if isinstance(request.data, dict) else {})
    fields.is_valid(raise_exception=True)
    try:
        payment = services.payment_create(user=request.user, amount=fields.validated_data["amount"])
    except services.TopupAmountInvalid as exc:
        raise ValidationError(str(exc)) from exc
    except services.TooManyPendingPayments as exc:
        raise _TooManyPending(exc.retry_after) from exc
    except yookassa.YooKassaNotConfigured as exc:
        raise _PaymentsUnavailable(_("Оплата не настроена: обратитесь в поддержку.")) from exc
    except (yookassa.YooKassaUnavailable, yookassa.YooKassaRefused) as exc:
        logger.warning("Could not create a YooKassa payment for user %s: %s", request.user.pk, exc)
        raise _PaymentsUnavailable from exc
    return Response(TopupSerializer(payment).data)


@extend_schema(responses=PaymentStatusSerializer)
@api_view(["GET"])
def payment_status(request: Request, payment_id) -> Response:
    """The user's own payment and their wallet, for the top-up page's result."""
    payment = Payment.objects.filter(pk=payment_id, user=request.user).select_related("user__wallet").first()
    if payment is None:
        # Somebody else's payment looks exactly like one that does not exist.
        raise NotFound(_("Не найдено."))
    return Response(PaymentStatusSerializer(payment).data)


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """YooKassa's notifications: only from its published addresses, acted on after re-fetching."""
    ip = client_ip(request)
    if ip is None or not in_networks(ip, settings.YOOKASSA_WEBHOOK_IPS):
        logger.warning("YooKassa webhook refused for %s (peer %s)", ip, request.META.get("REMOTE_ADDR"))
        return JsonResponse({"detail": _("Доступ запрещён.")}, status=403)
    result = services.notification_process(body=request.body, source_ip=ip)
    return JsonResponse({"status": result.outcome}, status=result.status_code)


@login_required
def topup_page(request: HttpRequest) -> HttpResponse:
    config = {
        "min": str(settings.TOPUP_MIN_AMOUNT),
        "max": str(settings.TOPUP_MAX_AMOUNT),
        "presets": [str(amount) for amount in settings.TOPUP_PRESETS],
        "messages": {
            "network": _("Не удалось связаться с сервером. Проверьте соединение и попробуйте ещё раз."),
            "widget": _("Не удалось открыть форму оплаты. Попробуйте ещё раз."),
            "failed": _("Платёж не прошёл, деньги не списаны."),
            "pending": _("Платёж ещё обрабатывается: баланс обновится, как только он пройдёт."),
        },
    }
    return render(
        request,
        "payments/topup.html",
        {
            "config": config,
            "widget_url": settings.YOOKASSA_WIDGET_URL,
            "configured": yookassa.is_configured(),
        },
    )


@login_required
def history_page(request: HttpRequest) -> HttpResponse:
    payments = Payment.objects.filter(user=request.user).order_by("-created_at")
    page = Paginator(payments, 20).get_page(request.GET.get("page"))
    return render(request, "payments/history.html", {"page": page})
