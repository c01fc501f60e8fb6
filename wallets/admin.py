"""Wallets in admin: everything is read-only; money moves only through the "adjust balance"
form, which calls `services.wallet_adjust` and records the staff member on the entry."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from config.admin import ReadOnly
from wallets import services
from wallets.formatting import format_money
from wallets.models import Hold, LedgerEntry, Wallet


class LedgerEntryInline(ReadOnly, admin.TabularInline):
    model = LedgerEntry
    fk_name = "wallet"
    fields = ("created_at", "kind", "amount", "balance_after", "reference", "description", "created_by")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    show_change_link = True
    # A busy wallet has thousands of entries; the full ledger is in its own list.
    max_num = 0
    classes = ("collapse",)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("created_by")


class HoldInline(ReadOnly, admin.TabularInline):
    model = Hold
    fields = ("created_at", "status", "amount", "charged", "reference", "expires_at", "closed_at")
    readonly_fields = fields
    ordering = ("-created_at",)
    show_change_link = True


class AdjustForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Сумма, ₽"),
        max_digits=14,
        decimal_places=2,
        help_text=_("Положительная — начислить, отрицательная — списать (не больше свободного остатка)."),
    )
    reason = forms.CharField(label=_("Причина"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    # One key per rendered form: a double submit records one adjustment.
    key = forms.UUIDField(widget=forms.HiddenInput)

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(_("Сумма не может быть нулевой."))
        return amount

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Укажите причину."))
        return reason


@admin.register(Wallet)
class WalletAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("user", "casdoor_id", "balance", "held", "available", "updated_at")
    search_fields = ("user__casdoor_id", "user__email", "user__name")
    list_select_related = ("user",)
    ordering = ("-updated_at",)
    fields = ("user", "balance", "held", "available", "updated_at", "adjust_link")
    readonly_fields = fields
    inlines = [HoldInline, LedgerEntryInline]

    @admin.display(description=_("ID в Casdoor"), ordering="user__casdoor_id")
    def casdoor_id(self, wallet: Wallet) -> str:
        return wallet.user.casdoor_id

    @admin.display(description=_("свободно, ₽"))
    def available(self, wallet: Wallet):
        return wallet.available

    @admin.display(description=_("Корректировка"))
    def adjust_link(self, wallet: Wallet) -> str:
        url = reverse("admin:wallets_wallet_adjust", args=[wallet.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("Изменить баланс"))

    def get_urls(self):
        adjust = self.admin_site.admin_view(self.adjust_view)
        return [path("<int:user_id>/adjust/", adjust, name="wallets_wallet_adjust"), *super().get_urls()]

    def adjust_view(self, request: HttpRequest, user_id: int) -> HttpResponse:
        if not request.user.has_perm("wallets.add_ledgerentry"):
            raise PermissionDenied
        wallet = get_object_or_404(Wallet.objects.select_related("user"), pk=user_id)
        change_url = reverse("admin:wallets_wallet_change", args=[wallet.pk])
        form = AdjustForm(request.POST or None, initial={"key": uuid.uuid4()})
        if request.method == "POST" and form.is_valid():
            try:
                entry = services.wallet_adjust(
                    user=wallet.user,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    staff=request.user,
                    reference=f"adjustment:{form.cleaned_data['key']}",
                )
            except services.InsufficientFunds:
                form.add_error("amount", _("Свободного остатка не хватает для такого списания."))
            except services.ReferenceConflict:
                form.add_error(None, _("Форма уже была отправлена с другими данными; откройте её заново."))
            else:
                self.message_user(
                    request,
                    _("Баланс изменён на %(amount)s, теперь %(balance)s.")
                    % {
                        "amount": format_money(entry.amount, sign=True),
                        "balance": format_money(entry.balance_after),
                    },
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Корректировка баланса"),
            "opts": self.model._meta,
            "wallet": wallet,
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/wallets/adjust.html", context)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("created_at", "wallet", "kind", "amount", "balance_after", "reference", "created_by")
    list_filter = ("kind", "created_at")
    search_fields = ("reference", "wallet__user__casdoor_id", "wallet__user__email")
    list_select_related = ("wallet__user", "created_by")
    date_hierarchy = "created_at"
    readonly_fields = (
        "wallet",
        "kind",
        "amount",
        "balance_after",
        "reference",
        "description",
        "metadata",
        "created_by",
        "created_at",
    )


@admin.register(Hold)
class HoldAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("created_at", "wallet", "status", "amount", "charged", "reference", "expires_at")
    list_filter = ("status",)
    search_fields = ("reference", "wallet__user__casdoor_id", "wallet__user__email")
    list_select_related = ("wallet__user",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "wallet",
        "status",
        "amount",
        "charged",
        "entry",
        "reference",
        "description",
        "metadata",
        "created_at",
        "expires_at",
        "closed_at",
    )
