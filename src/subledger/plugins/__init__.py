"""Beancount plugins shipped with subledger."""
