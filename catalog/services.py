"""Writes to the catalog that are not admin edits: taking prices from OpenRouter's model list."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from catalog.models import MILLION, AIModel


@dataclass(frozen=True)
class CatalogSync:
    changes: list[str]
    unchanged: int
    missing: list[str]


def _usd_per_million(per_token: str | None) -> Decimal | None:
    if per_token in (None, ""):
        return None
    value = Decimal(str(per_token)) * MILLION
    # OpenRouter marks "variable" prices with -1; those we leave to the admins.
    return value.quantize(Decimal("0.0001")) if value >= 0 else None


@transaction.atomic
def catalog_sync(*, offered: list[dict], dry_run: bool = False) -> CatalogSync:
    """Takes prices (USD per token → per 1M) and context lengths of our chat models from
    OpenRouter's model list (`offered`, as its `/models` answers). Names, groups and enabled
    flags stay as admins set them."""
    by_id = {model["id"]: model for model in offered}
    changes, missing, unchanged = [], [], 0
    for model in AIModel.objects.select_for_update().filter(kind=AIModel.Kind.CHAT).order_by("model_id"):
        data = by_id.get(model.model_id)
        if data is None:
            missing.append(model.model_id)
            continue
        pricing = data.get("pricing") or {}
        new = {
            "cost_input": _usd_per_million(pricing.get("prompt")),
            "cost_output": _usd_per_million(pricing.get("completion")),
            "context_length": data.get("context_length") or None,
        }
        diff = {
            name: value for name, value in new.items() if value is not None and getattr(model, name) != value
        }
        if not diff:
            unchanged += 1
            continue
        changes.append(
            f"{model.model_id}: "
            + ", ".join(f"{name} {getattr(model, name)} → {value}" for name, value in diff.items())
        )
        if not dry_run:
            for name, value in diff.items():
                setattr(model, name, value)
            model.save(update_fields=list(diff))
    return CatalogSync(changes=changes, unchanged=unchanged, missing=missing)
