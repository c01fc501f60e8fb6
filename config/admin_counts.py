"""`{{ cl|result_count }}` for admin's change lists: «2 платежа», «13 резервов», not Django's
«2 платежи» (it picks verbose_name for 1, verbose_name_plural for any other number).

The number goes through `model_ngettext`, i.e. ngettext(verbose_name, verbose_name_plural, n):
locale/ru/LC_MESSAGES/django.po gives each model's pair its three Russian forms."""

from django import template
from django.contrib.admin.utils import model_ngettext

register = template.Library()


@register.filter
def result_count(changelist) -> str:
    return f"{changelist.result_count} {model_ngettext(changelist.opts, changelist.result_count)}"
