"""What an import run did (or, in a dry run, would do): per old table, how many rows were new,
changed, unchanged or refused, how long each step took; the balance totals on both sides.

`import_legacy` prints it and `--report FILE` writes `as_dict()` as JSON for the runbook.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

COUNTS = ("read", "new", "changed", "unchanged", "refused", "gone")


@dataclass
class Refusal:
    table: str
    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.table} {self.key!r}: {self.reason}"


@dataclass
class TableReport:
    """One old table.

    `read` rows = `new` + `changed` + `unchanged` + `refused`. `gone` counts rows imported by an
    earlier run that the old table no longer has (kept here, except sessions, which are
    forgotten). `one_by_one` counts the rows that went through the per-row path: all of them
    on SQLite, only those the set-based step left over on PostgreSQL.
    """

    table: str
    present: bool = True
    read: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    refused: int = 0
    gone: int = 0
    one_by_one: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)

    @contextmanager
    def step(self, name: str):
        """Times a step; the same name twice adds up."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def refuse(self, *, key, reason: str) -> None:
        self.refused += 1
        self.refusals.append(Refusal(self.table, "" if key is None else str(key), reason))

    def as_dict(self) -> dict:
        return {
            "table": self.table,
            "present": self.present,
            **{name: getattr(self, name) for name in COUNTS},
            "one_by_one": self.one_by_one,
            "seconds": {name: round(value, 3) for name, value in self.seconds.items()},
            "notes": self.notes,
            "refused_rows": [{"key": r.key, "reason": r.reason} for r in self.refusals],
        }


@dataclass
class Report:
    dry_run: bool
    path: str
    old_balance_total: Decimal = Decimal(0)
    opening_balance_total: Decimal = Decimal(0)
    tables: list[TableReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def balances_match(self) -> bool:
        return self.old_balance_total == self.opening_balance_total

    @property
    def refusals(self) -> list[Refusal]:
        return [refusal for table in self.tables for refusal in table.refusals]

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "path": self.path,
            "tables": [table.as_dict() for table in self.tables],
            "balance": {
                "old_database": str(self.old_balance_total),
                "opening_balances_here": str(self.opening_balance_total),
                "match": self.balances_match,
            },
            "seconds": round(self.seconds, 3),
        }

    def as_text(self) -> str:
        header = f"{'table':<14}" + "".join(f"{name:>10}" for name in COUNTS) + f"{'seconds':>10}"
        lines = [
            "Dry run: nothing was written." if self.dry_run else "Import finished.",
            f"Path: {self.path}.",
            header,
        ]
        for table in self.tables:
            if not table.present:
                lines.append(f"{table.table:<14}  not in the old database, skipped")
                continue
            lines.append(
                f"{table.table:<14}"
                + "".join(f"{getattr(table, name):>10}" for name in COUNTS)
                + f"{table.seconds.get('total', 0.0):>10.2f}"
            )
        lines.append(
            f"Balance in the old database: {self.old_balance_total} ₽; "
            f"opening balances here: {self.opening_balance_total} ₽."
        )
        if self.balances_match:
            lines.append("Balances match.")
        else:
            difference = self.old_balance_total - self.opening_balance_total
            lines.append(f"BALANCES DIFFER by {difference} ₽: see the refused rows.")
        lines.append("Steps, seconds:")
        for table in self.tables:
            if table.present:
                steps = ", ".join(
                    f"{name} {value:.2f}" for name, value in table.seconds.items() if name != "total"
                )
                lines.append(f"  {table.table}: {steps}; rows taken one by one: {table.one_by_one}")
        lines.append(f"  all: {self.seconds:.2f}")
        for table in self.tables:
            lines.extend(f"  note: {table.table}: {note}" for note in table.notes)
        lines.extend(f"  refused: {refusal}" for refusal in self.refusals)
        return "\n".join(lines)
