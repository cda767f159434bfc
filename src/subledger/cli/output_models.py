"""The shapes ``--json`` prints beside each result's own model (``subledger schema --output NAME``)."""

from pydantic import BaseModel, ConfigDict, Field


class OperationOutput(BaseModel):
    """The keys every operation's ``--json`` result starts with (``cli.output``)."""

    model_config = ConfigDict(populate_by_name=True)

    success: bool = True
    operation: str = Field(description="The operation's kind, as the audit trail records it.")
    operation_id: int | None = Field(None, alias="operationId")
    replayed: bool = Field(description="True when the idempotency key had run this request: nothing posted again.")
    document_number: str | None = Field(None, alias="documentNumber")
    document_kind: str | None = Field(None, alias="documentKind")
    memo_number: str | None = Field(None, alias="memoNumber", description="The memo a write-off or reversal made.")
    memo_kind: str | None = Field(None, alias="memoKind")


class Reason(BaseModel):
    code: str
    message: str
    document: str | None = None
    field: str | None = None
    rule: str


class ErrorOutput(BaseModel):
    """Any refusal or mistake under ``--json`` (the reference product's error shape, plus document/field/rule)."""

    success: bool = False
    reasons: list[Reason]
