from django import template

from wallets.formatting import format_money

register = template.Library()


@register.filter
def money(amount, arg: str = "") -> str:
    """`{{ amount|money }}` → `1 467,19 ₽` (`₽1,467.19` in English); `|money:"sign"` adds "+"."""
    if amount is None or amount == "":
        return ""
    return format_money(amount, sign=arg == "sign")
