"""Alembic environment for the read model; run it through `models.db.migrate`."""
