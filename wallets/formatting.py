"""How an amount of money is written, one way everywhere: `1 467,19 ₽` in Russian, `₽1,467.19`
in English; always with kopecks; a minus (or, asked for, a plus) before it all.

static/js/http.js's `formatMoney` writes the same text in the browser; the two are tested to
agree (tests/wallets/test_formatting.py)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils.translation import get_language

# The smallest amount of money: every amount is a whole number of kopecks.
KOPECK = Decimal("0.01")

# Language → (pattern, thousands separator, decimal mark). A no-break space keeps `1 467,19 ₽`
# on one line. Other languages are written the Russian way.
MONEY_FORMATS = {
    "ru": ("{}\xa0₽", "\xa0", ","),
    "en": ("₽{}", ",", "."),
}


def format_money(
    amount: Decimal | int | float | str, *, sign: bool = False, language: str | None = None
) -> str:
    """`amount` (rubles) as the reader's language writes money; `sign` adds "+" to a positive one."""
    value = Decimal(str(amount)).quantize(KOPECK, rounding=ROUND_HALF_UP)
    code = (language or get_language() or settings.LANGUAGE_CODE).split("-")[0]
    pattern, group, decimal_mark = MONEY_FORMATS.get(code, MONEY_FORMATS["ru"])
    whole, fraction = f"{abs(value):,.2f}".split(".")
    text = pattern.format(f"{whole.replace(',', group)}{decimal_mark}{fraction}")
    if value < 0:
        return f"-{text}"
    return f"+{text}" if sign and value > 0 else text
