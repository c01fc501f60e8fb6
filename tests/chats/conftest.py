import pytest


@pytest.fixture(autouse=True)
def _round_prices(chat_settings) -> None:
    """Every chat test prices with `chat_settings` (tests/conftest.py)."""
