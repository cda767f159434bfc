"""Book settings, chosen at ``subledger init`` and kept in the database."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from subledger.posting import DocumentKind

MirroringRule = Literal["Yes", "YesExceptZeroBalance", "No"]


class BookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Invoice Settlement: write-offs and reversals create credit and debit memos. Off: invoice item adjustments.
    invoice_settlement: bool = True
    #: The billing rule "Create credit memos mirroring invoice items": Yes / Yes but not for zero-balance items / No.
    mirroring_rule: MirroringRule = "Yes"
    #: Tax lines of a non-revenue write-off debit the taxation line's sales-tax-payable code (tax relief on bad
    #: debt) unless this is set, in which case they debit the write-off code.
    non_revenue_tax_to_write_off_code: bool = False

    def to_rows(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.model_dump().items()}

    @classmethod
    def from_rows(cls, rows: dict[str, str]) -> BookSettings:
        values: dict[str, object] = {}
        for name, info in cls.model_fields.items():
            if name in rows:
                raw = rows[name]
                values[name] = raw == "True" if info.annotation is bool else raw
        return cls.model_validate(values)


DEFAULT_REASON_CODES: dict[DocumentKind, tuple[str, ...]] = {
    DocumentKind.CREDIT_MEMO: (
        "Correcting invoice error",
        "Write-off",
        "Invoice reversal",
        "Goodwill",
        "Charge dispute",
        "Service outage",
    ),
    DocumentKind.DEBIT_MEMO: ("Correcting invoice error", "Charge dispute", "Write-off", "Credit memo reversal"),
}
