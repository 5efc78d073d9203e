"""The read model: what people list and search, written by the workflows' activities.

`tables` (the schema), `engine` (the database and its migrations, Alembic in `migrations/`),
`writes` (what the case store's activities write), `delivery` (a provider's delivery report
applied to its attempt), `queries` (every read, by concern: cases, tasks, handoffs, KPIs),
`kpis` (the center's figures and buckets), `dossier` and `dossier_text` (legal's evidence).
Temporal holds the process state; this holds the rows. It imports `models` and nothing above.
"""
