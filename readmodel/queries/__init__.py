"""Every read of the read model, as keyword-only functions over a `Database`, by concern:
cases, tasks, handoffs, KPIs. Front ends and activities call these, never `select` themselves."""

from readmodel.queries.backlog import Backlog, backlog
from readmodel.queries.cases import (
    CaseFilter,
    CaseSort,
    case_currency,
    case_page,
    count_cases,
    get_case,
    get_case_customer,
    list_attempts,
    list_audit,
    list_payments,
    open_case_ids,
    open_cases_for_mobile,
    search_cases,
)
from readmodel.queries.handoffs import (
    HandoffSort,
    get_dossier,
    get_handoff,
    handoff_page,
    list_handoffs,
)
from readmodel.queries.kpis import center_kpis
from readmodel.queries.paging import Page
from readmodel.queries.tasks import TaskFilter, TaskSort, get_task, list_tasks, task_page

__all__ = [
    "Backlog",
    "CaseFilter",
    "CaseSort",
    "HandoffSort",
    "Page",
    "TaskFilter",
    "TaskSort",
    "backlog",
    "case_currency",
    "case_page",
    "center_kpis",
    "count_cases",
    "get_case",
    "get_case_customer",
    "get_dossier",
    "get_handoff",
    "get_task",
    "handoff_page",
    "list_attempts",
    "list_audit",
    "list_handoffs",
    "list_payments",
    "list_tasks",
    "open_case_ids",
    "open_cases_for_mobile",
    "search_cases",
    "task_page",
]
