"""The read model: what people list and search, written by the workflows' activities.

`tables` (the schema), `engine` (the database and its migrations, Alembic in `migrations/`),
`kpis` (the center's figures). Temporal holds the process state; this holds the rows.
"""
