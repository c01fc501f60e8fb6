"""Payments, notifications and refunds in admin: read-only records, one write: a refund.

The refund form (a page of its own, linked from a succeeded payment) calls
`services.refund_create`; nothing here changes money directly.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from config.admin import ReadOnly
from payments import services, yookassa
from payments.models import Payment, PaymentNotification, Refund
from wallets.formatting import format_money
from wallets.models import KOPECK
from wallets.services import InsufficientFunds


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    fields = ("id", "amount", "status", "yookassa_refund_id", "created_by", "created_at", "error")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Сумма возврата, ₽"), max_digits=14, decimal_places=2, min_value=KOPECK
    )


@admin.register(Payment)
class PaymentAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("created_at", "user", "amount", "currency", "status", "yookassa_payment_id")
    list_filter = ("status", "created_at")
    search_fields = ("id", "yookassa_payment_id", "user__email", "user__casdoor_id", "user__name")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "id",
        "user",
        "amount",
        "currency",
        "status",
        "description",
        "yookassa_payment_id",
        "credited_entry",
        "refund_link",
        "error",
        "provider_object",
        "created_at",
        "updated_at",
    )
    inlines = [RefundInline]
    actions = ["refund_selected"]

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("payments.add_refund")

    @admin.action(description=_("Оформить возврат"), permissions=["refund"])
    def refund_selected(self, request: HttpRequest, queryset) -> HttpResponse | None:
        payments = list(queryset[:2])
        if len(payments) != 1 or payments[0].status != Payment.Status.SUCCEEDED:
            self.message_user(request, _("Выберите один оплаченный платёж."), messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:payments_payment_refund", args=[payments[0].pk]))

    @admin.display(description=_("Возврат"))
    def refund_link(self, payment: Payment) -> str:
        if payment.status != Payment.Status.SUCCEEDED:
            return "—"
        url = reverse("admin:payments_payment_refund", args=[payment.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("Оформить возврат"))

    def get_urls(self):
        refund = self.admin_site.admin_view(self.refund_view)
        return [
            path("<uuid:payment_id>/refund/", refund, name="payments_payment_refund"),
            *super().get_urls(),
        ]

    def refund_view(self, request: HttpRequest, payment_id) -> HttpResponse:
        if not self.has_refund_permission(request):
            raise PermissionDenied
        payment = get_object_or_404(Payment.objects.select_related("user"), pk=payment_id)
        change_url = reverse("admin:payments_payment_change", args=[payment.pk])
        refundable = services.refundable_amount(payment=payment)
        form = RefundForm(request.POST or None, initial={"amount": refundable})
        if request.method == "POST" and form.is_valid():
            try:
                refund = services.refund_create(
                    payment=payment, amount=form.cleaned_data["amount"], created_by=request.user
                )
            except (services.RefundNotAllowed, InsufficientFunds) as exc:
                form.add_error(
                    "amount", str(exc) or _("На балансе пользователя недостаточно свободных средств.")
                )
            except (yookassa.YooKassaUnavailable, yookassa.YooKassaNotConfigured) as exc:
                self.message_user(
                    request,
                    _(
                        "Деньги списаны с кошелька, но ЮKassa не ответила (%(error)s); возврат отправится повторно."
                    )
                    % {"error": exc},
                    messages.WARNING,
                )
                return HttpResponseRedirect(change_url)
            else:
                self.message_user(
                    request,
                    _("Возврат %(amount)s: %(status)s.")
                    % {"amount": format_money(refund.amount), "status": refund.get_status_display()},
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Возврат платежа"),
            "opts": self.model._meta,
            "payment": payment,
            "refundable": refundable,
            "available": payment.user.wallet.available,
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/payments/refund.html", context)


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("received_at", "event", "object_id", "outcome", "source_ip")
    list_filter = ("outcome", "event")
    search_fields = ("object_id",)
    date_hierarchy = "received_at"
    readonly_fields = ("received_at", "event", "object_id", "source_ip", "outcome", "error", "body")


@admin.register(Refund)
class RefundAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("created_at", "payment", "amount", "status", "yookassa_refund_id", "created_by")
    list_filter = ("status",)
    search_fields = ("id", "yookassa_refund_id", "payment__yookassa_payment_id", "payment__user__email")
    list_select_related = ("payment", "created_by")
    readonly_fields = (
        "id",
        "payment",
        "amount",
        "status",
        "yookassa_refund_id",
        "created_by",
        "error",
        "provider_object",
        "created_at",
        "updated_at",
    )
