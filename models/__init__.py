"""Plain contract types that cross Temporal boundaries, and the SQLModel tables (read model).

Workflow code imports only the contract modules (`models.contracts`, `models.strategy`);
the tables live in `models.tables` and are used by activities, the API and Alembic.
"""
