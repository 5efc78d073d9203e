"""Alembic environment for the read model; run it through `readmodel.engine.migrate`."""
