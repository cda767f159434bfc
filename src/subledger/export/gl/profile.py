"""ERP profiles: what each target ERP needs to import a GL file unchanged, in one TOML file, a table per target.

Every key is optional: the defaults export the demo books cleanly except where only the organisation can say
(Xero's base currency when entries are in others: give ``rates`` or the export refuses). ``examples/erp-profile.toml``
shows every key. Mappings are keyed by accounting code name (what the subledger posts); a code left out falls back to
its GL number (or, for QuickBooks, its name path in the chart). NetSuite's ``posting_periods`` is keyed by the name of
a period of the book's calendar.
"""

from __future__ import annotations

import hashlib
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from subledger.errors import InvalidInput
from subledger.models.base import PositiveAmount

Code = Annotated[str, StringConstraints(min_length=1, max_length=100)]
#: A period of the book's calendar, by its name (``periods/*.csv``).
Period = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Text = Annotated[str, StringConstraints(max_length=255)]
#: Units of the base currency per unit of another: more than zero (a rate of 0 wrote every converted amount as 0.00,
#: a negative one swapped each line's debit and credit, and the file still balanced).
Rate = PositiveAmount


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Rates(_Table):
    """Foreign currency for a target that takes one currency per file (Xero, QuickBooks without multicurrency)."""

    base_currency: Currency = "USD"
    #: ``refuse``: an entry in another currency stops the export with a clear error; ``convert``: its amounts are
    #: converted at ``rates`` (units of the base currency per unit), the rounding put on its largest line.
    foreign_currency: Literal["refuse", "convert"] = "refuse"
    rates: dict[Currency, Rate] = Field(default_factory=dict)


class NetSuite(_Table):
    #: Required on OneWorld accounts: with it the file has a Subsidiary column on every line.
    subsidiary: Text | None = None
    #: How the Account column names an account not in ``accounts``: NetSuite matches a name, an internal id, or
    #: "number name" (with Use Account Numbers on).
    account_style: Literal["number name", "number", "name"] = "number name"
    accounts: dict[Code, Text] = Field(default_factory=dict)
    #: The customer (Name) on receivable and on-account lines: an A/R line without it shows as "No Customer" on the
    #: A/R aging. ``summary_name`` is the entity a summary entry's receivable lines name (it spans customers).
    customer_name: bool = True
    summary_name: Text | None = "Subledger Summary"
    department: Text = ""
    class_: Text = Field("", alias="class")
    location: Text = ""
    #: NetSuite's name for a period of the book where it is not the one the export gives by itself (``Mon YYYY``
    #: for a period named ``YYYY-MM``, else the book's own name): ``{"FY26-P03" = "Mar 2026"}``.
    posting_periods: dict[Period, Annotated[str, StringConstraints(min_length=1, max_length=255)]] = Field(
        default_factory=dict
    )
    #: ``netsuite``: Exchange Rate left blank, NetSuite applies its own rate table; ``profile``: the rates below
    #: (units of ``base_currency`` per unit; the base currency itself 1).
    exchange_rate: Literal["netsuite", "profile"] = "netsuite"
    base_currency: Currency = "USD"
    rates: dict[Currency, Rate] = Field(default_factory=dict)
    #: Lines per entry the export stays under (NetSuite warns over 1,000: imports time out).
    max_lines_per_entry: int = Field(1000, ge=2, le=1000)


class Xero(Rates):
    #: Xero account code per accounting code (default: the GL number).
    accounts: dict[Code, Text] = Field(default_factory=dict)
    #: Manual journals stay off Xero's Accounts Receivable system account: receivable lines post here instead.
    receivable_clearing_account: Text = "1210"
    tax_rates: dict[Code, Text] = Field(default_factory=dict)
    default_tax_rate: Text = "Tax Exempt"
    date_format: Literal["dd/mm/yyyy", "dd mmm yyyy"] = "dd/mm/yyyy"


class QuickBooks(Rates):
    #: Account Name per accounting code (default: its name path in the chart, "Parent:Sub").
    accounts: dict[Code, Text] = Field(default_factory=dict)
    customer_name: bool = True
    summary_name: Text | None = "Subledger Summary"
    date_format: Literal["MM/DD/YYYY", "DD/MM/YYYY", "YYYY-MM-DD"] = "MM/DD/YYYY"
    location: Text = ""
    class_: Text = Field("", alias="class")
    #: With multicurrency on, each entry keeps its currency (Currency and Exchange Rate columns) instead of being
    #: converted to the base currency or refused.
    multicurrency: bool = False


class Intacct(_Table):
    journal: Annotated[str, StringConstraints(min_length=1, max_length=20)] = "GJ"
    accounts: dict[Code, Text] = Field(default_factory=dict)
    location_id: Text = ""
    department_id: Text = ""
    #: Extra dimension columns and the value every line carries (``GLDIMPROJECT = "P-100"``).
    dimensions: dict[Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,39}$")], Text] = Field(
        default_factory=dict
    )
    base_currency: Currency = "USD"
    exchange_rate_type: Text = "Intacct Daily Rate"


class Profile(_Table):
    netsuite: NetSuite = NetSuite()
    xero: Xero = Xero()
    quickbooks: QuickBooks = QuickBooks()
    intacct: Intacct = Intacct()
    #: The profile file's SHA-256 (empty for the defaults): the sidecar names it, so a file says what shaped it.
    digest: str = ""

    @property
    def identity(self) -> str | None:
        """The profile as a request names it (what an idempotency key's request hash covers): the file's SHA-256,
        which the sidecar names too; for a profile built in code, the SHA-256 of its settings. None for the
        defaults, so that a request without a profile hashes as it did before profiles were part of it."""
        if self.digest:
            return self.digest
        if self == DEFAULT:
            return None
        return hashlib.sha256(self.model_dump_json(by_alias=True).encode()).hexdigest()


DEFAULT = Profile()


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc if part not in ("function-after[_short_decimal()]",))


def load_profile(path: Path | None) -> Profile:
    """The profile at ``path`` (the defaults when None); one clear line per problem, naming the key."""
    if path is None:
        return DEFAULT
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read ERP profile: {exc.strerror or exc}", document=str(path)) from None
    try:
        # A TOML float (rates = { EUR = 1.085 }) is read as the Decimal of its text, as JSON numbers are.
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"ERP profile is not valid TOML: {exc}", document=str(path)) from None
    if "digest" in data:
        raise InvalidInput("unknown key (not a target table)", document=str(path), field="digest")
    try:
        return Profile.model_validate({**data, "digest": hashlib.sha256(raw).hexdigest()})
    except ValidationError as exc:
        error = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        rule = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        raise InvalidInput(rule + more, document=str(path), field=_where(error["loc"])) from None
