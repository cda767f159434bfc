"""subledger's Fava extension: the books reviewed the way an accountant closes them, from the ledger alone.

Load it with ``2026-01-01 custom "fava-extension" "subledger.fava_ext"`` (``subledger export beancount
--fava-extension`` writes the line; ``pip install 'subledger[fava]'``). Four reports appear in Fava's sidebar:

- **Period close**: each accounting period's status, its postings' fingerprint recomputed and compared with the
  one recorded at close, and the close checks the ledger can make, in one table.
- **Write-off register**: per period, revenue-impacting and non-revenue, by reason code, accounting code and
  customer, each row linking to the journal filtered to it, and the totals tied to the accounts.
- **Reversals**: per period, each reversal and, for one made because another document was reversed, its cause.
- **Receivables aging**: open receivable balances by customer as of a date (``?as_of=YYYY-MM-DD``, default the
  last entry's date), the write-off candidates (the oldest past-due balances) marked.

Each report also answers as JSON at ``extension/<Report>/data`` (same parameters). Everything is computed from
the ledger's entries (``review``); nothing reads the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import asdict, is_dataclass
from decimal import Decimal
from typing import Any, TypeVar

from fava.ext import FavaExtensionBase, extension_endpoint
from flask import Response, jsonify, request

from subledger.fava_ext import review

__all__ = ["PeriodClose", "ReceivablesAging", "Reversals", "WriteOffRegister"]


_F = TypeVar("_F", bound=Callable[..., Any])


def _endpoint(name: str) -> Callable[[_F], _F]:
    """Fava's ``extension_endpoint(name)``, typed (Fava's own annotation does not accept a method)."""
    decorator: Any = extension_endpoint(name)
    return decorator  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    """``value`` as JSON: decimals as strings (exact), dates in ISO form."""
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class _Review:
    """What every report shares: the ledger's entries and the period asked for (``?period=``)."""

    ledger: Any

    @property
    def entries(self) -> Sequence[Any]:
        return self.ledger.all_entries  # type: ignore[no-any-return]

    def period(self) -> str | None:
        return request.args.get("period") or None

    def periods(self) -> list[review.Period]:
        return review.periods(self.entries)

    def money(self, totals: review.Totals) -> str:
        return review.money(totals)


class PeriodClose(_Review, FavaExtensionBase):
    report_title = "Period close"

    def rows(self) -> list[review.CloseRow]:
        rows = review.period_close(self.entries, self.ledger.errors)
        wanted = self.period()
        return [r for r in rows if wanted is None or r.period.name == wanted]

    @_endpoint("data")
    def data(self) -> Response:
        out = []
        for row in self.rows():
            item = _plain(row)
            item["passed"] = row.passed
            out.append(item)
        return jsonify({"periods": out})


class WriteOffRegister(_Review, FavaExtensionBase):
    report_title = "Write-off register"

    def registers(self) -> list[review.Register]:
        return review.registers(self.entries, self.period())

    @_endpoint("data")
    def data(self) -> Response:
        out = []
        for register in self.registers():
            item = _plain(register)
            for tie, plain in zip(register.ties, item["ties"], strict=True):
                plain["ties"] = tie.ties
            for memo, plain in zip(register.memos, item["memos"], strict=True):
                plain["filter"] = memo.filter
            out.append(item)
        return jsonify({"periods": out})


class Reversals(_Review, FavaExtensionBase):
    report_title = "Reversals"

    def by_period(self) -> list[tuple[str, list[review.Memo]]]:
        grouped: dict[str, list[review.Memo]] = {}
        for memo in review.reversals(self.entries):
            if self.period() in (None, memo.period):
                grouped.setdefault(memo.period, []).append(memo)
        return sorted(grouped.items())

    @_endpoint("data")
    def data(self) -> Response:
        out = []
        for period, memos in self.by_period():
            plain = _plain(memos)
            for memo, item in zip(memos, plain, strict=True):
                item["filter"] = memo.filter
            out.append({"period": period, "reversals": plain})
        return jsonify({"periods": out})


class ReceivablesAging(_Review, FavaExtensionBase):
    report_title = "Receivables aging"

    def as_of(self) -> dt.date:
        asked = request.args.get("as_of")
        if asked:
            try:
                return dt.date.fromisoformat(asked)
            except ValueError:
                pass
        return review.last_date(self.entries)

    def buckets(self) -> list[str]:
        return [label for label, _, _ in review.BUCKETS]

    candidate_days = review.CANDIDATE_DAYS

    def grand_total(self) -> review.Totals:
        out: review.Totals = {}
        for customer in self.customers():
            for currency, amount in customer.total.items():
                review.add(out, currency, amount)
        return out

    def receivable(self) -> dict[str, review.Totals]:
        return review.receivable_balance(self.entries, self.as_of())

    def ties(self) -> bool:
        ledger: review.Totals = {}
        for totals in self.receivable().values():
            for currency, amount in totals.items():
                review.add(ledger, currency, amount)
        return {c: a for c, a in ledger.items() if a} == {c: a for c, a in self.grand_total().items() if a}

    def customers(self) -> list[review.CustomerAging]:
        return review.aging(self.entries, self.as_of())

    def totals(self) -> dict[str, review.Totals]:
        out: dict[str, review.Totals] = {label: {} for label in self.buckets()}
        for customer in self.customers():
            for label, totals in customer.buckets.items():
                for currency, amount in totals.items():
                    review.add(out[label], currency, amount)
        return out

    @_endpoint("data")
    def data(self) -> Response:
        return jsonify(
            {
                "as_of": self.as_of().isoformat(),
                "candidate_days": review.CANDIDATE_DAYS,
                "customers": _plain(self.customers()),
                "total": _plain(self.grand_total()),
                "receivable_accounts": _plain(self.receivable()),
                "ties": self.ties(),
            }
        )
