"""Alembic's script directory (``versions/`` holds the revisions); ``frozen`` is what several revisions share."""
