"""Generated memos: the mirror of a document's lines, posted and applied back to it.

A write-off or an invoice reversal generates a credit memo mirroring the lines of an invoice or debit memo; a
credit memo write-off or reversal generates a debit memo mirroring the credit memo's lines. Either way:
- each generated line copies ``quantity`` and ``unitPrice`` from its original line (never recomputed, so
  quantity x unit price need not equal the amount on a partial write-off: seed 003, case 2), records the original
  line as ``sourceItemId``, and carries the amount given for that line;
- each generated taxation line copies every descriptive field of the original taxation line; no tax is computed;
- the memo is applied line by line to the lines it mirrors, so both ends reach the balances the operation intends.

Which lines are mirrored, and with what amounts, is the operation's decision (``MirrorLine``); this module only
builds the memo and its applications, the same way for every operation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Connection, func, select

from subledger.journal import Entry
from subledger.models.documents import CreditMemo, DebitMemo, ItemFinanceInformation, MemoItem, TaxationItem
from subledger.models.documents import TaxFinanceInformation as TaxFinance
from subledger.operations.base import canonical_json, digest
from subledger.operations.settlement import Applications, Line
from subledger.operations.state import DocumentState, ItemLine, TaxLine
from subledger.storage.schema import documents


@dataclass
class MirrorLine:
    """One generated item: the original item, the amount of the generated line, and its taxation lines."""

    source: ItemLine
    amount: Decimal
    taxes: list[tuple[TaxLine, Decimal]] = field(default_factory=list)
    processing_type: str | None = None  # defaults to the original's


def open_balances(doc: DocumentState) -> list[MirrorLine]:
    """Every line with its open balance (or unapplied amount), zero lines included."""
    return [MirrorLine(item, item.balance, [(tax, tax.balance) for tax in item.taxes]) for item in doc.items]


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
    taken = conn.execute(select(func.count()).where(documents.c.number.like(f"{prefix}-%"))).scalar_one()
    return f"{prefix}-{taken + 1}"


def generate_memo(
    source: DocumentState, lines: list[MirrorLine], header: MemoHeader, *, on_account_code: str, ar_code: str
) -> DocumentState:
    """The generated memo: a credit memo for an invoice or debit memo, a debit memo for a credit memo.

    A credit memo debits what the original credited (each item's revenue code, or the non-revenue write-off code)
    and credits ``on_account_code``; a debit memo credits what the credit memo debited and debits ``ar_code``.
    """
    kind = "DebitMemo" if source.kind == "CreditMemo" else "CreditMemo"
    non_revenue = header.non_revenue_code
    items: list[ItemLine] = []
    models: list[MemoItem] = []
    for k, line in enumerate(lines, start=1):
        src = line.source
        item_id = f"{header.number}-{k}"
        revenue_code = non_revenue or src.revenue_code
        taxes: list[TaxLine] = []
        tax_models: list[TaxationItem] = []
        for j, (tax, amount) in enumerate(line.taxes, start=1):
            sales_tax = non_revenue if (non_revenue and header.tax_to_non_revenue_code) else tax.sales_tax_code
            taxes.append(
                TaxLine(
                    id=f"{item_id}-T{j}",
                    item_id=item_id,
                    line_no=0,
                    tax_amount=amount,
                    balance=amount,
                    sales_tax_code=sales_tax,
                    ar_code=ar_code if kind == "DebitMemo" else tax.ar_code,
                    on_account_code=on_account_code if kind == "CreditMemo" else None,
                    name=tax.name,
                    jurisdiction=tax.jurisdiction,
                    location_code=tax.location_code,
                    tax_code=tax.tax_code,
                    tax_code_description=tax.tax_code_description,
                    tax_mode=tax.tax_mode,
                    tax_rate=tax.tax_rate,
                    tax_rate_description=tax.tax_rate_description,
                    tax_rate_type=tax.tax_rate_type,
                    exempt_amount=tax.exempt_amount,
                    tax_date=tax.tax_date,
                    source_tax_item_id=tax.id,
                )
            )
            tax_models.append(
                TaxationItem.model_validate(
                    {
                        "id": f"{item_id}-T{j}",
                        "name": tax.name,
                        "jurisdiction": tax.jurisdiction,
                        "location_code": tax.location_code,
                        "tax_code": tax.tax_code,
                        "tax_code_description": tax.tax_code_description,
                        "tax_mode": tax.tax_mode,
                        "tax_rate": tax.tax_rate,
                        "tax_rate_description": tax.tax_rate_description,
                        "tax_rate_type": tax.tax_rate_type,
                        "exempt_amount": tax.exempt_amount,
                        "tax_amount": amount,
                        "tax_date": tax.tax_date,
                        "source_tax_item_id": tax.id,
                        "finance_information": TaxFinance(sales_tax_payable_accounting_code=sales_tax),
                    }
                )
            )
        processing_type = line.processing_type or src.processing_type
        source_item_type = "CreditMemoDetail" if kind == "DebitMemo" else "InvoiceDetail"
        items.append(
            ItemLine(
                id=item_id,
                line_no=k,
                processing_type=processing_type,
                amount=line.amount,
                balance=line.amount,
                revenue_code=revenue_code,
                ar_code=ar_code if kind == "DebitMemo" else src.ar_code,
                on_account_code=on_account_code if kind == "CreditMemo" else None,
                charge_name=src.charge_name,
                subscription_number=src.subscription_number,
                applied_to_item_id=None,
                quantity=src.quantity,
                unit_price=src.unit_price,
                source_item_id=src.id,
                source_item_type=source_item_type,
                taxes=taxes,
            )
        )
        models.append(
            MemoItem.model_validate(
                {
                    "id": item_id,
                    "charge_name": src.charge_name,
                    "subscription_number": src.subscription_number,
                    "processing_type": processing_type,
                    "quantity": src.quantity,
                    "unit_price": src.unit_price,
                    "amount_without_tax": line.amount,
                    "source_item_id": src.id,
                    "source_item_type": source_item_type,
                    "finance_information": ItemFinanceInformation(deferred_revenue_accounting_code=revenue_code),
                    "taxation_items": tax_models,
                }
            )
        )
    for n, tax in enumerate((t for item in items for t in item.taxes), start=1):
        tax.line_no = n
    common = {
        "number": header.number,
        "account_number": source.account_number,
        "currency": source.currency,
        "status": "Posted",
        "reason_code": header.reason_code,
        "comment": header.comment,
        "items": models,
    }
    model: CreditMemo | DebitMemo
    if kind == "CreditMemo":
        model = CreditMemo.model_validate(
            {
                **common,
                "credit_memo_date": header.date,
                "source": header.origin,
                "source_type": "Invoice" if source.kind == "Invoice" else "DebitMemo",
                "referred_invoice_number": source.number,
            }
        )
    else:
        model = DebitMemo.model_validate({**common, "debit_memo_date": header.date})
    return DocumentState(
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
        content_hash=digest(model),
        payload=canonical_json(model),
    )


def apply_generated(
    applications: Applications, source: DocumentState, memo: DocumentState, date: dt.date, *, tag: str
) -> list[Entry]:
    """Apply a generated memo to the document it mirrors, each generated line to its original line.

    A credit memo is applied to the invoice or debit memo it came from; for a debit memo generated from a credit
    memo, the credit memo is applied to the debit memo.
    """
    originals: dict[str, Line] = {line.id: line for line in source.lines()}
    pairs: list[tuple[Line, Line, Decimal]] = []
    for item in memo.items:
        assert item.source_item_id is not None
        pairs.append((item, originals[item.source_item_id], item.amount))
        for tax in item.taxes:
            assert tax.source_tax_item_id is not None
            pairs.append((tax, originals[tax.source_tax_item_id], tax.tax_amount))
    if memo.kind == "CreditMemo":
        return applications.credit_memo(memo, source, pairs, date, tag=tag)
    return applications.credit_memo(
        source, memo, [(original, generated, amount) for generated, original, amount in pairs], date, tag=tag
    )
