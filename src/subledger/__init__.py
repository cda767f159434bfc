"""subledger: billing settlement (write-offs, reversals, applications) as double-entry accounting.

The package is a stack of layers, each importing only from those below it (``docs/architecture.md`` is the map,
``tests/test_architecture.py`` holds it), from the bottom:

- values:     ``models`` (every input and output), ``posting`` (what each transaction posts), ``money``, ``chart``,
              ``calendar``, ``permissions``, ``errors``
- storage:    ``storage`` (schema, money column, guards, migrations, bulk paths), ``canonical`` (hashed texts)
- book:       ``journal`` (balanced, chained entries), ``state``, ``balances``, ``fingerprint``, ``context``, reports
- export:     ``export`` (Beancount ledgers, GL files for the ERP) and the Beancount ``plugins``
- checks:     ``checks``, the period-close checks, returned as values
- operations: ``operations``, one module per business operation, and the runner (``operations.base``)
- facade:     ``api.Books``; interfaces: ``cli`` (the ``subledger`` command), ``http``, ``fava_ext``, ``demo``
"""

from __future__ import annotations

__version__ = "0.1.0"
