"""Exporters: the Beancount ledger (``beancount``) and GL files for the ERP (``gl``)."""
