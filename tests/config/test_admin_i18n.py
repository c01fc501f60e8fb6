"""Admin in Russian: branded, labelled in Russian, counts with correct plurals, and staff sign in
by email code like everyone else."""

import re

import pytest
from django.contrib import admin
from django.contrib.admin.utils import label_for_field, model_ngettext
from django.urls import reverse
from django.utils import translation

from tests.helpers import sign_in_by_email

pytestmark = pytest.mark.django_db

CYRILLIC = re.compile("[\u0400-\u04ff]")
# Names that read the same in Russian.
LATIN_LABELS = {"ID", "IP", "UID", "URL", "Casdoor", "JSON"}


def registered() -> list:
    return sorted(admin.site._registry, key=lambda model: model._meta.label)


@pytest.mark.parametrize("model", registered(), ids=lambda model: model._meta.label)
def test_every_model_in_admin_is_named_in_russian_with_three_plural_forms(model):
    with translation.override("ru"):
        opts = model._meta
        forms = [model_ngettext(opts, n) for n in (1, 2, 5, 21, 22, 11)]
        assert CYRILLIC.search(str(opts.verbose_name)), opts.label
        assert CYRILLIC.search(str(opts.verbose_name_plural)), opts.label
        one, few, many = forms[:3]
        assert len({one, few, many}) == 3, forms
        assert forms[3:] == [one, few, many]


@pytest.mark.parametrize("model", registered(), ids=lambda model: model._meta.label)
def test_every_column_and_form_field_admin_shows_is_named_in_russian(model, rf, admin_user):
    model_admin = admin.site._registry[model]
    request = rf.get("/admin/")
    request.user = admin_user
    with translation.override("ru"):
        columns = [
            str(label_for_field(name, model, model_admin))
            for name in model_admin.get_list_display(request)
            if name != "action_checkbox"
        ]
        fields = [str(field.label) for field in model_admin.get_form(request)().fields.values()]
    for label in columns + fields:
        assert CYRILLIC.search(label) or label in LATIN_LABELS, (model._meta.label, label)


def test_a_change_list_counts_in_russian(admin_client, alice, bob, make_user):
    from wallets.services import hold_place, wallet_credit

    for user in (alice, bob):
        wallet_credit(user=user, amount=1000, reference=f"yookassa:{user.pk}")
    for i in range(13):
        hold_place(user=alice, amount=1, reference=f"msg:{i}")

    wallets = admin_client.get(reverse("admin:wallets_wallet_changelist")).content.decode()
    holds = admin_client.get(reverse("admin:wallets_hold_changelist")).content.decode()

    staff_wallets = 1  # admin_client's own user has a wallet too
    assert f"{2 + staff_wallets} кошелька" in wallets
    assert "13 резервов" in holds
    assert "13 резервы" not in holds


def test_admin_carries_the_sites_name(admin_client, settings):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "Нейросети · администрирование" in page
    assert (
        "Django"
        not in re.sub(r"<(script|link)[^>]*>", "", page).split("<body", 1)[1].split('id="content"')[0]
    )


def test_signed_out_admin_sends_to_the_sites_sign_in(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=")
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    assert "ID в Casdoor" not in response.content.decode()


def test_staff_sign_in_to_admin_by_email_code(client, commit, make_user):
    from allauth.account.models import EmailAddress

    staff = make_user("email_staff", email="staff@example.com", is_staff=True, is_superuser=True)
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)

    sign_in_by_email(client, staff.email, commit)

    assert client.get(reverse("admin:index")).status_code == 200


def test_a_signed_in_user_without_staff_rights_gets_403_from_admin(alice_client):
    assert alice_client.get(reverse("admin:login")).status_code == 403


def test_the_first_admin_signs_in_then_is_granted_staff(client, commit):
    from io import StringIO

    from django.core.management import CommandError, call_command

    sign_in_by_email(client, "owner@example.ru", commit)
    assert client.get(reverse("admin:index"), follow=True).status_code == 403

    out = StringIO()
    call_command("grant_staff", "Owner@Example.ru", "--superuser", stdout=out)

    assert "is staff and superuser" in out.getvalue()
    assert client.get(reverse("admin:index")).status_code == 200
    with pytest.raises(CommandError):
        call_command("grant_staff", "nobody@example.ru")
