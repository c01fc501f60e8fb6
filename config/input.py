"""The input policy every endpoint shares: what a JSON body or a form may carry.

PostgreSQL cannot store a NUL character, a string holding a lone surrogate (`"\\ud800"`, valid
JSON but not Unicode) cannot be encoded, a body nested 100,000 levels deep raises RecursionError
in the parser, and `1e400` or NaN is no amount. Each of those was a 500 somewhere (the issue's
adversarial pass); here each is `InputRejected`, a 400 with a message the user can read, before
any view stores anything.

Used by the DRF parsers (`config.api`), the streamed reply (`chats.stream`) and the YooKassa
webhook, so one rule holds everywhere.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

from django.utils.translation import gettext as _

# Deeper than any body our API takes (the deepest, a chat message with image_urls, is 2).
MAX_DEPTH = 32
# PostgreSQL's bigint: a larger integer fits no column and no id.
MAX_INTEGER = 2**63 - 1


# The same rules as JSON Schema patterns (config.schema puts them in the OpenAPI schema): text
# without NUL, and such text with at least one character that str.strip() keeps (the spaces are
# spelled out: `\s` differs between Python, JavaScript and Rust). Lone surrogates are not in
# the patterns: no string of Unicode text holds one, and regex engines other than Python's
# cannot name them.
_SPACES = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
TEXT_PATTERN = r"^[^\x00]*$"
NONBLANK_TEXT_PATTERN = rf"^[^\x00]*[^\x00{_SPACES}][^\x00]*$"


class InputRejected(ValueError):
    """A body or a field the policy refuses; str() is the message for the user."""


def json_loads(body: bytes | str) -> object:
    """Parses a JSON body under the policy.

    Raises:
        InputRejected: not UTF-8, not JSON, nested deeper than MAX_DEPTH, a number that is not
            finite or not within MAX_INTEGER, or text that `text_check` refuses.
    """
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputRejected(_("Тело запроса должно быть в кодировке UTF-8.")) from exc
    try:
        data = json.loads(
            body, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int
        )
    except RecursionError as exc:
        raise InputRejected(_too_deep()) from exc
    except InputRejected:
        raise
    except ValueError as exc:
        raise InputRejected(_("Тело запроса должно быть JSON.")) from exc
    _check_tree(data)
    return data


def text_check(value: str) -> None:
    """Refuses text PostgreSQL cannot store (NUL) or that is not valid Unicode (a lone
    surrogate, which no encoder accepts)."""
    if "\x00" in value:
        raise InputRejected(_("Текст не может содержать нулевой символ (\\u0000)."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputRejected(_("Текст содержит некорректные символы Unicode.")) from exc


def texts_check(values: Iterable[str]) -> None:
    for value in values:
        text_check(value)


def _too_deep() -> str:
    return _("Слишком глубокая вложенность JSON: не больше %(limit)s уровней.") % {"limit": MAX_DEPTH}


def _out_of_range() -> InputRejected:
    return InputRejected(_("Число вне допустимого диапазона."))


def _refuse_constant(name: str):
    # NaN, Infinity and -Infinity: Python's json accepts them, JSON does not.
    raise _out_of_range()


def _finite_float(text: str) -> float:
    value = float(text)
    # 1e400 reads as inf; past MAX_INTEGER a float is no amount, id or count we take either.
    if not math.isfinite(value) or abs(value) > MAX_INTEGER:
        raise _out_of_range()
    return value


def _bounded_int(text: str) -> int:
    # Checked on the digits first: Python reads a long one slowly (and refuses 4,300+).
    if len(text.lstrip("-")) > len(str(MAX_INTEGER)):
        raise _out_of_range()
    value = int(text)
    if abs(value) > MAX_INTEGER:
        raise _out_of_range()
    return value


def _check_tree(data: object) -> None:
    """Every string (keys included) passes `text_check`, and nothing is nested deeper than
    MAX_DEPTH. Iterative: the tree may be as deep as the parser allowed."""
    pending = [(data, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, str):
            text_check(node)
        elif isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                raise InputRejected(_too_deep())
            if isinstance(node, dict):
                texts_check(node)
                pending.extend((value, depth + 1) for value in node.values())
            else:
                pending.extend((value, depth + 1) for value in node)
