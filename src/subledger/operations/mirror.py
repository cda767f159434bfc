"""Generated memos: the mirror of a document's lines, posted and applied back to it.

A write-off or an invoice reversal generates a credit memo mirroring the lines of an invoice or debit memo; a
credit memo write-off or reversal generates a debit memo mirroring the credit memo's lines. Either way:
- each generated line copies ``quantity`` and ``unitPrice`` from its original line (never recomputed, so
  quantity x unit price need not equal the amount on a partial write-off: seed 003, case 2), records the original
  line as ``sourceItemId``, and carries the amount given for that line;
- each generated line copies every descriptive field of its original line (charge name, model and number,
  description, unit of measure, SKU and SKU name, service period, subscription), and names the kind of line it
  mirrors (``sourceItemType`` InvoiceDetail, DebitMemoDetail or CreditMemoDetail);
- each generated taxation line copies every descriptive field of the original taxation line; no tax is computed;
- the memo is applied line by line to the lines it mirrors, so both ends reach the balances the operation intends.

Which lines are mirrored, and with what amounts, follows the billing rule "create credit memos mirroring invoice
items" (``mirrored_lines``, the one place that says it, for write-offs and reversals alike): under Yes every line
is mirrored, zero lines included; under "Yes except zero balance" lines with nothing to mirror are left out; under
No they are left out too and each discount is folded into the item it discounts (Part 2 §3.4, §9, seed 000).
A generated line may therefore settle more than one original line (a folded item and its discount): the memo
remembers which (``GeneratedMemo.settles``) and ``apply_generated`` applies it to each of them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from subledger.errors import MirroringRuleRefuses, NotFound, NothingToWriteOff
from subledger.journal import Entry, Tag
from subledger.models.base import COUNTER_ROOM, ID_LENGTH, fitted
from subledger.money import ZERO, quantize
from subledger.operations.base import canonical_json
from subledger.operations.settlement import Applications, Line
from subledger.posting import Defaults, DocumentKind, Role, line_type, resolve_codes
from subledger.settings import MirroringRule
from subledger.state import DocumentState, ItemLine, TaxLine, new_item_line, new_tax_line
from subledger.storage.bulk import one_of
from subledger.storage.schema import documents


@dataclass
class MirrorLine:
    """One generated item: the original item, the amount of the generated line, and its taxation lines.

    ``settles`` lists the original items the generated line is applied to, with the amount each gets; by default
    the source item alone, for the whole amount. Under the rule No an item's line also settles its discounts.
    """

    source: ItemLine
    amount: Decimal
    taxes: list[tuple[TaxLine, Decimal]] = field(default_factory=list)
    processing_type: str | None = None  # defaults to the original's
    settles: list[tuple[ItemLine, Decimal]] | None = None

    def settlements(self) -> list[tuple[ItemLine, Decimal]]:
        return [(self.source, self.amount)] if self.settles is None else self.settles


def open_balances(doc: DocumentState) -> list[MirrorLine]:
    """Every line with its open balance (or unapplied amount), zero lines included."""
    return [MirrorLine(item, item.balance, [(tax, tax.balance) for tax in item.taxes]) for item in doc.items]


def mirrored_lines(
    doc: DocumentState, rule: MirroringRule, amounts: Mapping[str, Decimal] | None = None
) -> list[MirrorLine]:
    """The lines a generated memo mirrors, shaped by the mirroring billing rule.

    ``amounts=None`` mirrors every open balance (a header-level write-off; for a reversal the balances are the
    amounts). Otherwise only the listed line ids (items or taxation items) are mirrored, each with its amount (a
    line-level write-off); an item not listed whose taxation line is, appears as a zero-amount carrier of it.

    - Yes: every line, zero lines included (Part 2 §3.4 cases IV and VI; the seed 000 table).
    - YesExceptZeroBalance: lines with nothing to mirror are left out; a zero item still carries a non-zero tax.
    - No: as YesExceptZeroBalance, and each discount is folded into the item it discounts: the item's line
      settles the item and the discount (100 and -10 give one line of 90); the discount's taxation lines ride on a
      zero-amount Charge-type line of their own (case III).
    - A document whose lines are all zero (case V) is mirrored under Yes only; the other rules refuse it.
    - Total zero with non-zero lines (case VII) is mirrored under every rule.
    The rule shapes credit memos mirroring invoices and debit memos; a debit memo mirroring a credit memo copies
    every line as it is. Refuses a memo with nothing to mirror (every line zero, case V under Yes aside).
    """
    if doc.kind == DocumentKind.CREDIT_MEMO:
        rule = "Yes"
    lines_by_id = {line.id: line for line in doc.lines()}
    if amounts is not None:
        for line_id in amounts:
            if line_id not in lines_by_id:
                raise NotFound(f"no line {line_id} in {doc.number}", document=doc.number, field="items")
    label = doc.kind.label
    all_zero = all(line.amount == 0 for line in doc.lines())
    if all_zero and amounts is None and rule != "Yes":
        raise MirroringRuleRefuses(
            f"every line of {label} {doc.number} is zero: under the mirroring rule {rule} it cannot be mirrored "
            "(only the rule Yes creates an all-zero memo)",
            document=doc.number,
        )
    keep_zero = rule == "Yes"
    zero = quantize(ZERO, doc.currency)

    def wanted(line: ItemLine | TaxLine) -> Decimal | None:
        """The amount to mirror for ``line``, or None when the line is left out."""
        amount = line.balance if amounts is None else amounts.get(line.id)
        if amount is None or (amount == 0 and not keep_zero):
            return None
        return amount

    items = {item.id: item for item in doc.items}
    folded_into: dict[str, str] = {}
    if rule == "No":
        folded_into = {
            item.id: item.applied_to_item_id
            for item in doc.items
            if item.processing_type == "Discount" and item.applied_to_item_id in items
        }
    folded: dict[str, list[tuple[ItemLine, Decimal]]] = {}
    for discount_id, item_id in folded_into.items():
        amount = wanted(items[discount_id])
        if amount is not None and amount != 0:
            folded.setdefault(item_id, []).append((items[discount_id], amount))

    lines: list[MirrorLine] = []
    for item in doc.items:
        taxes = [(tax, amount) for tax in item.taxes if (amount := wanted(tax)) is not None]
        if item.id in folded_into:
            # The discount's own amount went to its item's line: a zero Charge line carries its tax (case III).
            if taxes:
                lines.append(MirrorLine(item, zero, taxes, processing_type="Charge", settles=[]))
            continue
        own = wanted(item)
        settles = ([] if own is None else [(item, own)]) + folded.get(item.id, [])
        if not settles and not taxes:
            continue
        total = sum((amount for _, amount in settles), zero)
        if folded.get(item.id):
            lines.append(MirrorLine(item, total, taxes, settles=settles))
        else:
            lines.append(MirrorLine(item, total, taxes, settles=None if own is not None else []))
    moves = any(amount != 0 for line in lines for _, amount in (*line.settlements(), *line.taxes))
    if not moves and not (all_zero and amounts is None):
        where = "the lines given" if amounts is not None else "every line's open balance"
        raise NothingToWriteOff(
            f"nothing left to mirror on {label} {doc.number}: {where} is zero", document=doc.number, field="items"
        )
    return lines


@dataclass(frozen=True)
class MemoHeader:
    number: str
    date: dt.date
    reason_code: str
    comment: str | None
    origin: str  # WriteOff or Reversal
    revenue_impacting: bool | None = None
    non_revenue_code: str | None = None
    tax_to_non_revenue_code: bool = False


def next_number(conn: Connection, prefix: str) -> str:
    """``prefix`` followed by the next free counter (``WO-INV00000001-1``, ``-2`` ... for repeated write-offs)."""
    return next_numbers(conn, [prefix])[prefix]


def next_numbers(conn: Connection, prefixes: Iterable[str]) -> dict[str, str]:
    """``next_number`` for many prefixes at once (a bulk write-off numbers a whole batch in a few queries).

    A number that would be longer than the books keep (``WO-`` and a 62-character number) is numbered under the
    prefix shortened by ``models.base.fitted``, which keeps room for the counter: ``WO-INV...XXX.1a2b3c4d5e6f-1``.
    """
    numbers = _counted(conn, prefixes)
    shortened = {p: fitted(p, room=COUNTER_ROOM) for p, number in numbers.items() if len(number) > ID_LENGTH}
    if shortened:
        again = _counted(conn, shortened.values())
        numbers.update({p: again[short] for p, short in shortened.items()})
    return numbers


def _counted(conn: Connection, prefixes: Iterable[str]) -> dict[str, str]:
    """Each prefix followed by its next free counter.

    Counters start at 1 and grow by one, so a prefix whose ``-1`` is free has no number yet: one indexed ``IN``
    query settles most prefixes; the rest are read by an index range (``prefix-`` up to ``prefix.``, never
    ``LIKE``, which SQLite answers by scanning every document) and get one more than their largest counter.
    """
    wanted = sorted(set(prefixes))
    taken: dict[str, int] = dict.fromkeys(wanted, 0)
    used: list[str] = []
    for i in range(0, len(wanted), 1000):
        firsts = [f"{p}-1" for p in wanted[i : i + 1000]]
        used += [
            n.removesuffix("-1")
            for n in conn.execute(select(documents.c.number).where(one_of(conn, documents.c.number, firsts))).scalars()
        ]
    for prefix in used:
        query = select(documents.c.number).where(documents.c.number >= f"{prefix}-", documents.c.number < f"{prefix}.")
        for number in conn.execute(query).scalars():
            counter = number.removeprefix(f"{prefix}-")
            if counter.isdigit():
                taken[prefix] = max(taken[prefix], int(counter))
    return {prefix: f"{prefix}-{n + 1}" for prefix, n in taken.items()}


@dataclass
class GeneratedMemo(DocumentState):
    """A generated memo, and for each of its items the original items it settles (id, amount)."""

    settles: dict[str, list[tuple[str, Decimal]]] = field(default_factory=dict)


def generate_memo(
    source: DocumentState, lines: list[MirrorLine], header: MemoHeader, defaults: Defaults
) -> GeneratedMemo:
    """The generated memo: a credit memo for an invoice or debit memo, a debit memo for a credit memo.

    A credit memo debits what the original credited (each item's revenue code, or the non-revenue write-off code)
    and credits the default on-account code; a debit memo credits what the credit memo debited and debits the
    default receivable code (``posting.resolve_codes``).
    """
    kind = DocumentKind.DEBIT_MEMO if source.kind == DocumentKind.CREDIT_MEMO else DocumentKind.CREDIT_MEMO
    charge_type, tax_type = line_type(kind, tax=False), line_type(kind, tax=True)
    non_revenue = header.non_revenue_code
    items: list[ItemLine] = []
    wire_items: list[dict[str, Any]] = []
    settles: dict[str, list[tuple[str, Decimal]]] = {}
    for k, line in enumerate(lines, start=1):
        src = line.source
        item_id = fitted(f"{header.number}-{k}")
        settles[item_id] = [(original.id, amount) for original, amount in line.settlements()]
        codes = resolve_codes(
            charge_type, defaults, code=src.revenue_code, ar=src.ar_code, non_revenue=non_revenue, generated=True
        )
        revenue_code = codes[Role.REVENUE]
        taxes: list[TaxLine] = []
        tax_wire: list[dict[str, Any]] = []
        for j, (tax, amount) in enumerate(line.taxes, start=1):
            tax_codes = resolve_codes(
                tax_type,
                defaults,
                code=tax.sales_tax_code,
                ar=tax.ar_code,
                non_revenue=non_revenue,
                tax_to_non_revenue=header.tax_to_non_revenue_code,
                generated=True,
            )
            sales_tax = tax_codes[Role.SALES_TAX]
            tax_id = fitted(f"{item_id}-T{j}")
            taxes.append(new_tax_line(tax_id, item_id, amount, tax_codes, tax, tax.id))
            tax_wire.append(
                _present(
                    {
                        "id": tax_id,
                        "name": tax.name,
                        "jurisdiction": tax.jurisdiction,
                        "locationCode": tax.location_code,
                        "taxCode": tax.tax_code,
                        "taxCodeDescription": tax.tax_code_description,
                        "taxMode": tax.tax_mode,
                        "taxRate": _text(tax.tax_rate),
                        "taxRateDescription": tax.tax_rate_description,
                        "taxRateType": tax.tax_rate_type,
                        "exemptAmount": _text(tax.exempt_amount),
                        "taxAmount": str(amount),
                        "taxDate": None if tax.tax_date is None else tax.tax_date.isoformat(),
                        "sourceTaxItemId": tax.id,
                        "financeInformation": {"salesTaxPayableAccountingCode": sales_tax},
                    }
                )
            )
        processing_type = line.processing_type or src.processing_type
        source_item_type = _SOURCE_ITEM_TYPE[source.kind]
        mirrored = new_item_line(item_id, k, processing_type, line.amount, codes, src)
        mirrored.source_item_id, mirrored.source_item_type, mirrored.taxes = src.id, source_item_type, taxes
        items.append(mirrored)
        wire_items.append(
            _present(
                {
                    "id": item_id,
                    "chargeName": src.charge_name,
                    "chargeModel": src.charge_model,
                    "chargeNumber": src.charge_number,
                    "description": src.description,
                    "subscriptionNumber": src.subscription_number,
                    "processingType": processing_type,
                    "quantity": _text(src.quantity),
                    "unitPrice": _text(src.unit_price),
                    "unitOfMeasure": src.unit_of_measure,
                    "sku": src.sku,
                    "skuName": src.sku_name,
                    "serviceStartDate": _day(src.service_start_date),
                    "serviceEndDate": _day(src.service_end_date),
                    "amountWithoutTax": str(line.amount),
                    "sourceItemId": src.id,
                    "sourceItemType": source_item_type,
                    "financeInformation": {"deferredRevenueAccountingCode": revenue_code},
                    "taxationItems": tax_wire,
                }
            )
        )
    for n, tax in enumerate((t for item in items for t in item.taxes), start=1):
        tax.line_no = n
    # The memo's record in the load file's shape, built as the wire form directly: a bulk write-off generates
    # thousands of memos a second, and validating each through the models would cost more than the rest.
    # (``tests/test_writeoff_mirroring.py`` checks that the models read it back unchanged.)
    wire: dict[str, Any] = {
        "number": header.number,
        "accountNumber": source.account_number,
        "currency": source.currency,
        "status": "Posted",
        "reasonCode": header.reason_code,
        "items": wire_items,
    }
    if header.comment is not None:
        wire["comment"] = header.comment
    if kind == DocumentKind.CREDIT_MEMO:
        wire["creditMemoDate"] = header.date.isoformat()
        wire["source"] = header.origin
        wire["sourceType"] = str(source.kind)
        referred = "referredInvoiceNumber" if source.kind == DocumentKind.INVOICE else "referredDebitMemoNumber"
        wire[referred] = source.number
        wire["applications"] = []
    else:
        wire["debitMemoDate"] = header.date.isoformat()
    payload = canonical_json(wire)
    return GeneratedMemo(
        account_number=source.account_number,
        number=header.number,
        kind=kind,
        status="Posted",
        document_date=header.date,
        currency=source.currency,
        items=items,
        reason_code=header.reason_code,
        comment=header.comment,
        source=header.origin,
        source_type=source.kind,
        source_document=source.number,
        revenue_impacting=header.revenue_impacting,
        non_revenue_code=non_revenue,
        content_hash=hashlib.sha256(payload.encode()).hexdigest(),
        payload=payload,
        settles=settles,
    )


def _present(values: dict[str, Any]) -> dict[str, Any]:
    """The wire form leaves out what is not there (as ``model_dump(exclude_none=True)`` does)."""
    return {k: v for k, v in values.items() if v is not None}


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


#: What a generated line names as its source item's type: the kind of line it mirrors.
_SOURCE_ITEM_TYPE = {
    DocumentKind.INVOICE: "InvoiceDetail",
    DocumentKind.DEBIT_MEMO: "DebitMemoDetail",
    DocumentKind.CREDIT_MEMO: "CreditMemoDetail",
}


def apply_generated(
    applications: Applications, source: DocumentState, memo: DocumentState, date: dt.date, *, tag: Tag
) -> list[Entry]:
    """Apply a generated memo to the document it mirrors, each generated line to the original lines it settles.

    A credit memo is applied to the invoice or debit memo it came from; for a debit memo generated from a credit
    memo, the credit memo is applied to the debit memo. A generated line that settles several original lines (an
    item and its folded discount) is applied to each of them: every original line moves toward zero by its own
    amount and the generated line ends at exactly zero. Zero amounts settle nothing and record nothing.
    """
    originals: dict[str, Line] = {line.id: line for line in source.lines()}
    settles = memo.settles if isinstance(memo, GeneratedMemo) else {}
    pairs: list[tuple[Line, Line, Decimal]] = []
    for item in memo.items:
        assert item.source_item_id is not None
        targets = settles.get(item.id, [(item.source_item_id, item.amount)])
        pairs.extend((item, originals[original_id], amount) for original_id, amount in targets if amount != 0)
        for tax in item.taxes:
            assert tax.source_tax_item_id is not None
            if tax.tax_amount != 0:
                pairs.append((tax, originals[tax.source_tax_item_id], tax.tax_amount))
    if memo.kind == DocumentKind.CREDIT_MEMO:
        return applications.credit_memo(memo, source, pairs, date, tag=tag)
    return applications.credit_memo(
        source, memo, [(original, generated, amount) for generated, original, amount in pairs], date, tag=tag
    )
