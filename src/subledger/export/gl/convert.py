"""Foreign-currency entries for a target that takes one currency per file (Xero; QuickBooks without
multicurrency): converted at the profile's rates, or refused with the key to set."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from subledger.errors import RuleViolation
from subledger.export.gl.model import GLEntry
from subledger.export.gl.profile import Currency, Rates
from subledger.money import quantum


def in_base(entry: GLEntry, rates: Rates, target: str) -> list[tuple[Decimal, Decimal]]:
    """Each line's (debit, credit) in the base currency. Converted lines are rounded one by one and the entry's
    rounding difference goes to its largest line on the short side, so the converted entry still balances."""
    pairs = [(line.debit, line.credit) for line in entry.lines]
    if entry.currency == rates.base_currency:
        return pairs
    if rates.foreign_currency == "refuse":
        raise RuleViolation(
            f"{target} takes entries in the base currency {rates.base_currency} only; GL entry {entry.external_id} "
            f'is in {entry.currency} (set {target}.foreign_currency = "convert" and {target}.rates in the ERP '
            "profile)",
            document=entry.source_document or entry.external_id,
            field=f"{target}.foreign_currency",
        )
    rate = rates.rates.get(entry.currency)
    if rate is None:
        raise RuleViolation(
            f"no {target} rate for {entry.currency} in the ERP profile (GL entry {entry.external_id})",
            document=entry.source_document or entry.external_id,
            field=f"{target}.rates.{entry.currency}",
        )
    unit = quantum(rates.base_currency)
    out = [((d * rate).quantize(unit, ROUND_HALF_EVEN), (c * rate).quantize(unit, ROUND_HALF_EVEN)) for d, c in pairs]
    gap = sum(d for d, _ in out) - sum(c for _, c in out)
    if gap > 0:  # debits exceed credits: the largest credit takes the difference
        i = max(range(len(out)), key=lambda k: (out[k][1], -k))
        out[i] = (out[i][0], out[i][1] + gap)
    elif gap < 0:
        i = max(range(len(out)), key=lambda k: (out[k][0], -k))
        out[i] = (out[i][0] - gap, out[i][1])
    return out


def rate_cell(entry: GLEntry, base_currency: str, rates: dict[Currency, Decimal], target: str, setting: str) -> str:
    """The Exchange Rate cell of a target that keeps each entry's currency: 1 for the base currency, else the
    profile's rate (``target.rates``); refused, naming the ``setting`` that asks for it, when the profile has none."""
    if entry.currency == base_currency:
        return "1"
    rate = rates.get(entry.currency)
    if rate is None:
        raise RuleViolation(
            f"{setting} but the ERP profile has no rate for {entry.currency} (GL entry {entry.external_id})",
            document=entry.source_document or entry.external_id,
            field=f"{target}.rates.{entry.currency}",
        )
    return str(rate)
