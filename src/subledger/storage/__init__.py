"""Storage: the SQLAlchemy schema, the exact money column, database-side guards and migrations."""
