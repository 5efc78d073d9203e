"""Processes that host workflows and activities: one per task queue, or all in one."""
