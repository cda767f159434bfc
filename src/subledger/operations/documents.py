"""How a document posts: one journal entry per transaction type (charges, taxes), on the document date.

Used for loaded documents and for the memos that write-offs and reversals generate, so that a generated credit memo
posts exactly as a loaded one would. Which transaction type each line posts is ``posting.line_type``.
"""

from __future__ import annotations

from subledger.journal import Entry, EntryBuilder, Tag
from subledger.posting import DocumentKind, line_type
from subledger.state import DocumentState

TAG_OF = {
    DocumentKind.INVOICE: Tag.INVOICE,
    DocumentKind.DEBIT_MEMO: Tag.DEBIT_MEMO,
    DocumentKind.CREDIT_MEMO: Tag.CREDIT_MEMO,
}
LABEL_OF = {
    DocumentKind.INVOICE: "Invoice",
    DocumentKind.DEBIT_MEMO: "Debit memo",
    DocumentKind.CREDIT_MEMO: "Credit memo",
}


def posting_entries(doc: DocumentState, *, tag: Tag | None = None, description: str | None = None) -> list[Entry]:
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
    charge, tax_type = line_type(doc.kind, tax=False), line_type(doc.kind, tax=True)
    for item in doc.items:
        builder.add(charge, item.amount, item.codes(), item.id)
        for tax in item.taxes:
            builder.add(tax_type, tax.tax_amount, tax.codes(), tax.id)
    return builder.entries()
