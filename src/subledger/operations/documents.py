"""How a document posts: one journal entry per transaction type (charges, taxes), on the document date.

Used for loaded documents and for the memos that write-offs and reversals generate, so that a generated credit memo
posts exactly as a loaded one would.
"""

from __future__ import annotations

from subledger.journal import Entry, EntryBuilder
from subledger.operations.state import DocumentState

TAG_OF = {"Invoice": "invoice", "DebitMemo": "debit-memo", "CreditMemo": "credit-memo"}
LABEL_OF = {"Invoice": "Invoice", "DebitMemo": "Debit memo", "CreditMemo": "Credit memo"}
CHARGE_TYPE = {
    "Invoice": "Invoice Item",
    "DebitMemo": "Debit Memo Item (Charge)",
    "CreditMemo": "Credit Memo Item (Charge)",
}
TAX_TYPE = {
    "Invoice": "Taxation Item",
    "DebitMemo": "Debit Memo Item (Tax)",
    "CreditMemo": "Credit Memo Item (Tax)",
}


def posting_entries(doc: DocumentState, *, tag: str | None = None, description: str | None = None) -> list[Entry]:
    """The journal entries that post a document: one per transaction type (charges, taxes), on its date."""
    builder = EntryBuilder(
        account_number=doc.account_number,
        date=doc.document_date,
        currency=doc.currency,
        document_number=doc.number,
        tag=tag or TAG_OF[doc.kind],
        description=description or f"{LABEL_OF[doc.kind]} {doc.number}",
        # A generated or referring memo is linked to the document it came from, so the ledger shows both.
        related_number=doc.source_document,
    )
    on_account = "on_account"
    for item in doc.items:
        codes = {"ar": item.ar_code, "revenue": item.revenue_code, on_account: item.on_account_code or ""}
        builder.add(CHARGE_TYPE[doc.kind], item.amount, codes, item.id)
        for tax in item.taxes:
            tax_codes = {
                "ar": tax.ar_code,
                "sales_tax": tax.sales_tax_code,
                on_account: tax.on_account_code or "",
            }
            builder.add(TAX_TYPE[doc.kind], tax.tax_amount, tax_codes, tax.id)
    return builder.entries()
