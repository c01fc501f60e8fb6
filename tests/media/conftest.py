"""Media test helpers: S3 (moto) and Fal fakes, media models, funded wallets, image files."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from PIL import Image

from chats.models import AIModel
from tests.fakes.fal import fal  # noqa: F401  (the fixture)
from tests.fakes.s3 import _moto_server, s3  # noqa: F401  (the fixtures)
from wallets.models import Wallet
from wallets.services import wallet_create, wallet_credit

PRICE = Decimal("12.50")


@pytest.fixture
def image_model(db) -> AIModel:
    model, _ = AIModel.objects.update_or_create(
        model_id="fal-ai/test-image",
        defaults={
            "name": "Test Image",
            "group": "Images",
            "kind": AIModel.Kind.IMAGE,
            "price_per_generation": PRICE,
        },
    )
    return model


@pytest.fixture
def video_model(db) -> AIModel:
    model, _ = AIModel.objects.update_or_create(
        model_id="fal-ai/test-video",
        defaults={
            "name": "Test Video",
            "group": "Video",
            "kind": AIModel.Kind.VIDEO,
            "price_per_generation": PRICE,
        },
    )
    return model


@pytest.fixture
def fund():
    """Tops `user` up by `amount` through the wallet service (a real ledger entry)."""

    def top_up(user, amount: str = "100.00") -> Wallet:
        wallet_create(user=user)
        wallet_credit(user=user, amount=Decimal(amount), reference=f"test-topup:{user.pk}:{amount}")
        return Wallet.objects.get(pk=user.pk)

    return top_up


def image_bytes(image_format: str, size: tuple[int, int] = (40, 30), **save) -> bytes:
    out = io.BytesIO()
    mode = "P" if image_format == "GIF" else "RGB"
    Image.new(mode, size, "orange" if mode == "RGB" else 3).save(out, format=image_format, **save)
    return out.getvalue()
