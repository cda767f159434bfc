"""``jsonl``: one JSON object per GL entry (for programs, not spreadsheets: texts are written as they are)."""

from __future__ import annotations

import json
from typing import Any

from subledger.export.gl.model import Account, GLEntry, RunInfo, amount_text
from subledger.export.gl.profile import Profile

#: Characters a reader splitting on any line boundary (Python's ``splitlines``, JavaScript before ES2019) takes for
#: the end of a record, which JSON leaves unescaped: escaped, a record is one line for every reader.
_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


class Renderer:
    spec = None

    def __init__(self, profile: Profile, accounts: dict[str, Account], run: RunInfo) -> None:
        self.run = run.number
        self.numbers = {code: a.number for code, a in accounts.items()}

    def rows(self, e: GLEntry) -> list[list[str]]:
        record = {
            "externalId": e.external_id,
            "date": e.date.isoformat(),
            "period": e.period,
            "transactionType": e.transaction_type,
            "currency": e.currency,
            "memo": e.memo,
            "sourceDocument": e.source_document,
            "relatedDocument": e.related_document,
            "customerAccount": e.customer_account,
            "reasonCode": e.reason_code,
            "comment": e.comment,
            "journalRun": self.run,
            "lines": [
                {
                    "accountNumber": self.numbers[line.code],
                    "accountingCode": line.code,
                    "debit": amount_text(line.debit, e.currency),
                    "credit": amount_text(line.credit, e.currency),
                    "itemId": line.item_id,
                }
                for line in e.lines
            ],
        }
        text = json.dumps({k: v for k, v in record.items() if v is not None}, ensure_ascii=False)
        return [[text.translate(_LINE_BREAKS) + "\n"]]

    def settings(self) -> dict[str, Any]:
        return {}
