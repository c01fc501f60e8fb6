"""What a chat reply costs.

Catalog prices are USD per 1M tokens; the user pays
`(tokens_in * cost_input + tokens_out * cost_output) / 1e6 * USD_RUB_RATE * PRICE_MARKUP`,
rounded up to the kopeck. Tokens not counted by the provider yet (the prompt before it is sent,
a reply cut off without usage) are estimated from the text.
"""

from __future__ import annotations

import math
from decimal import Decimal

from django.conf import settings

from catalog.models import MILLION
from wallets.services import round_up_to_kopeck


def estimate_tokens(text: str) -> int:
    """Roughly four bytes of UTF-8 per token: about right for English, generous for Russian."""
    return math.ceil(len(text.encode("utf-8")) / 4)


def token_price(usd_per_million: Decimal) -> Decimal:
    """RUB per token of a catalog price in USD per 1M tokens, with our markup."""
    return Decimal(usd_per_million) / MILLION * settings.USD_RUB_RATE * settings.PRICE_MARKUP


def reply_cost(*, cost_input: Decimal, cost_output: Decimal, tokens_in: int, tokens_out: int) -> Decimal:
    """What a reply costs the user in RUB, rounded up to the kopeck."""
    return round_up_to_kopeck(tokens_in * token_price(cost_input) + tokens_out * token_price(cost_output))


# "A typical answer", the yardstick the chat shows prices by: a question with some history
# (1,000 tokens in) and an answer of a few paragraphs (500 tokens out).
TYPICAL_PROMPT_TOKENS = 1000
TYPICAL_REPLY_TOKENS = 500


def typical_reply_cost(*, cost_input: Decimal, cost_output: Decimal) -> Decimal:
    """What a typical answer (TYPICAL_PROMPT_TOKENS in, TYPICAL_REPLY_TOKENS out) costs in RUB."""
    return reply_cost(
        cost_input=cost_input,
        cost_output=cost_output,
        tokens_in=TYPICAL_PROMPT_TOKENS,
        tokens_out=TYPICAL_REPLY_TOKENS,
    )


def rub_per_million(usd_per_million: Decimal) -> Decimal:
    """The user's price per 1M tokens in RUB (USD × USD_RUB_RATE × PRICE_MARKUP), as the pages show it."""
    return (token_price(usd_per_million) * MILLION).quantize(Decimal("0.01"))
