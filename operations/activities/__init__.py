"""The application's own use cases that a schedule runs on a worker, as activities: the daily
intake (`daily_intake`) and the allocation of open tasks (`allocation`). They act through the
gateway as a service account, so they live here, above `temporal/` and `readmodel/`, and the
worker hosts them; `activities/` keeps the I/O the workflows themselves need."""
