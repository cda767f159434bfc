"""Moved to ``subledger.state`` (beneath the operations, so that ``queries`` reads documents without importing an
operation). Kept for code written against the old path; import from ``subledger.state``."""

from subledger.state import *  # noqa: F403
