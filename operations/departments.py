"""What the departments do: collectors and supervisors work their cases' tasks; the risk and
legal departments read their handoffs and answer them.

A task is the owning case's: its actions (claim, complete, assign ...) are declared once in
`operations.catalogue.TASK_ACTIONS`, and `act_on_task` runs any of them on the case the task's
row names. A handoff is its department workflow's, keyed by the workflow's id
(`risk-<account_no>-<n>`, `legal-...`). The answers a department gives are declared once in
`HANDOFF_ANSWERS`: the API's routes and the console's forms are made from it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from temporalio.workflow import UpdateMethodMultiParam

from models.contracts import ActionResult
from models.departments import (
    AcceptReferralInput,
    ContactPermissionInput,
    LegalReferralStatus,
    ProceedingInput,
    ReturnReferralInput,
    RiskDecision,
    RiskReviewState,
    RiskReviewStatus,
)
from models.permissions import UPDATE_ROLES
from models.tasks import AssignTaskInput
from operations import staff
from operations.answers import Answer, Outcome
from operations.approvals import act_or_ask
from operations.cases import as_case
from operations.catalogue import TASK_ACTIONS, TaskAction, update_name
from operations.gateway import Gateway
from operations.roles import Role
from readmodel import queries
from readmodel.engine import Database
from readmodel.tables import HumanTaskRow
from workflows.case import CollectionCaseWorkflow as Case
from workflows.legal_referral import LegalReferralWorkflow as Legal
from workflows.risk_review import RiskReviewWorkflow as Risk

T = TypeVar("T")
Department = Literal["risk", "legal"]

# Collectors follow the reviews their hardship reports opened; legal files stay with legal.
READERS: dict[str, frozenset[Role]] = {
    "risk": frozenset({Role.SUPERVISOR, Role.RISK, Role.OPERATIONS}),
    "legal": frozenset({Role.SUPERVISOR, Role.LEGAL}),
}
DOSSIER_READERS: dict[str, frozenset[Role]] = {
    "risk": frozenset({Role.SUPERVISOR, Role.RISK}),
    "legal": frozenset({Role.SUPERVISOR, Role.LEGAL}),
}
TASK_WORKERS = frozenset({Role.SUPERVISOR, Role.OPERATIONS})


# --- tasks ---------------------------------------------------------------------------------------


def works_queue(role: Role, queue: str) -> bool:
    """A supervisor works both queues; a collector only the operations queue."""
    return role is Role.SUPERVISOR or queue != Role.SUPERVISOR


async def assignee_problem(db: Database, assignee: str, queue: str) -> str:
    """Why `assignee` cannot be given work on `queue` ("" when they can): nobody by that id,
    inactive, a service account, or without the role that works the queue."""
    row = await staff.find(db, assignee.strip())
    if row is None or row.kind != "person":
        return f"no person {assignee!r} in the staff directory"
    if not row.active:
        return f"{assignee} is not active"
    if not any(works_queue(role, queue) for role in staff.roles_from(row.roles) & TASK_WORKERS):
        return f"{assignee} does not hold a role that works the {queue} queue"
    return ""


async def worked_task(
    db: Database, task_key: str, role: Role | None = None
) -> Answer[HumanTaskRow]:
    """The task's row: NOT_FOUND when unknown, FORBIDDEN when `role` does not work its queue
    (no role: a service, or the host's command line)."""
    row = await queries.get_task(db, task_key=task_key)
    if row is None:
        return Answer(Outcome.NOT_FOUND, message=f"no task {task_key}")
    if role is not None and not works_queue(role, row.queue):
        return Answer(Outcome.FORBIDDEN, message="only a supervisor works this task")
    return Answer(Outcome.ACCEPTED, row)


async def act_on_task(
    gateway: Gateway, db: Database, action: TaskAction, arg: Any, *, role: Role | None = None
) -> Answer[ActionResult]:
    """Takes a task action (a row of `operations.catalogue.TASK_ACTIONS`) on the case that owns
    the task, as `role` (checked against the task's queue). Assigning refuses an unknown,
    inactive or unfit person here, before the case is asked, and nothing changes. A completion
    that upholds a dispute or approves a legal referral waits for a second person
    (AWAITING_APPROVAL); every other input runs at once (`act_or_ask`)."""
    found = await worked_task(db, arg.task_key, role)
    if not found.ok:
        return Answer(found.outcome, message=found.message)
    row = found.unwrap()
    if action.update is Case.assign_task:
        if problem := await assignee_problem(db, arg.assignee, row.queue):
            return Answer(Outcome.REFUSED, message=problem)
        arg = dataclasses.replace(arg, assignee=arg.assignee.strip())
    return as_case(row.case_id, await act_or_ask(gateway, db, row.case_id, action.update, arg))


async def assign_task(
    gateway: Gateway,
    db: Database,
    task_key: str,
    assignee: str,
    reason: str = "",
    *,
    only_unassigned: bool = False,
) -> Answer[ActionResult]:
    """The allocator's assignment (`operations.allocation`), as a supervisor's."""
    req = AssignTaskInput(task_key, assignee, reason, only_unassigned=only_unassigned)
    return await act_on_task(gateway, db, TASK_ACTIONS["assign"], req)


# --- handoffs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandoffAnswer:
    department: Department
    update: UpdateMethodMultiParam[[Any, Any], Any]  # the department workflow's, by reference
    input_type: type
    result_type: type
    summary: str
    word: str = ""  # the API's path and the console's form, where not the update's own name

    @property
    def roles(self) -> frozenset[Role]:
        """Who may give it (`models.permissions`, which the workflows check too)."""
        return UPDATE_ROLES[self.name]

    @property
    def name(self) -> str:
        """The update's name (`record_proceeding`)."""
        return update_name(self.update)

    @property
    def path(self) -> str:
        """How the API's path and the console's form say it (`proceedings`)."""
        return self.word or self.name


_ANSWERS = (
    HandoffAnswer(
        "risk",
        Risk.decide,
        RiskDecision,
        RiskDecision,
        "Forbearance, payment plan, restructure or proceed; answered once the row is decided.",
    ),
    HandoffAnswer(
        "legal",
        Legal.accept,
        AcceptReferralInput,
        LegalReferralStatus,
        "Legal takes the referral.",
    ),
    HandoffAnswer(
        "legal",
        Legal.return_referral,
        ReturnReferralInput,
        LegalReferralStatus,
        "Back to the collectors, with a reason; the referral ends.",
        word="return",
    ),
    HandoffAnswer(
        "legal",
        Legal.record_proceeding,
        ProceedingInput,
        LegalReferralStatus,
        "In a lawsuit's order (filed, hearings, judgment, enforcement); settled or closed ends it.",
        word="proceedings",
    ),
    HandoffAnswer(
        "legal",
        Legal.set_contact_permission,
        ContactPermissionInput,
        LegalReferralStatus,
        "Lets the collection center contact the customer while legal holds the case, or stops it.",
        word="contact-permission",
    ),
)

HANDOFF_ANSWERS: dict[str, HandoffAnswer] = {answer.path: answer for answer in _ANSWERS}


async def answer_handoff(
    gateway: Gateway, key: str, answer: HandoffAnswer, arg: Any
) -> Answer[Any]:
    """The department's answer, to the handoff's workflow, whose validators may refuse it."""
    return _as_handoff(key, await gateway.update(key, answer.update, arg))


_WHILE = {
    "referred": (Legal.accept, Legal.return_referral, Legal.set_contact_permission),
    "accepted": (Legal.record_proceeding, Legal.set_contact_permission),
}


def still_takes(
    answer: HandoffAnswer,
    *,
    review: RiskReviewStatus | None,
    referral: LegalReferralStatus | None,
) -> bool:
    """Whether the handoff's workflow, in the state it answered, still takes `answer` (a form
    offers only these; the workflow refuses the others anyway)."""
    if review is not None:
        waiting = review.status in (RiskReviewState.OPEN, RiskReviewState.ESCALATED)
        return waiting and answer.update is Risk.decide
    if referral is not None:
        return answer.update in _WHILE.get(referral.status, ())
    return False


def may_read(role: Role, department: str) -> bool:
    return role in READERS.get(department, frozenset())


def may_read_dossier(role: Role, department: str) -> bool:
    return role in DOSSIER_READERS.get(department, frozenset())


async def risk_review(gateway: Gateway, key: str) -> Answer[RiskReviewStatus]:
    """The review as its workflow holds it now."""
    return _as_handoff(key, await gateway.query(key, Risk.review))


async def legal_referral(gateway: Gateway, key: str) -> Answer[LegalReferralStatus]:
    """The referral as its workflow holds it now."""
    return _as_handoff(key, await gateway.query(key, Legal.referral))


def _as_handoff(key: str, answer: Answer[T]) -> Answer[T]:
    if answer.outcome is Outcome.NOT_FOUND:
        return dataclasses.replace(answer, message=f"no handoff {key}")
    return answer
