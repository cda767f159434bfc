"""subledger: billing settlement (write-offs, reversals, applications) as double-entry accounting.

The package is laid out the way data flows through it:

- ``models``      pydantic input and output models (load files, request bodies, reports)
- ``chart``       the chart of accounts (``chart_of_accounts/``) and ``calendar`` the fiscal periods (``periods/``)
- ``storage``     the SQLAlchemy schema, money column type, database triggers and Alembic migrations
- ``posting``     the posting rules: which accounting codes each transaction type debits and credits
- ``journal``     balanced journal entries, built and checked before anything is written
- ``operations``  one module per business operation (load, write-off, reversal, periods)
- ``checks``      the period-close checks, returned as values
- ``export``      Beancount ledgers and GL files for the ERP
- ``api``         ``Books``, the one facade over the operations; ``cli`` is the ``subledger`` command
"""

from __future__ import annotations

__version__ = "0.1.0"
