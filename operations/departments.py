"""What the departments do: collectors claim and complete their cases' tasks; the risk and
legal departments read their handoffs and answer them.

A task is the owning case's (`claim_task`, `complete_task`); a handoff is its department
workflow's, keyed by the workflow's id (`risk-<account_no>-<n>`, `legal-...`). The answers a
department gives are declared once in `HANDOFF_ANSWERS`: the API's routes and the console's
forms are made from it.
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
from models.tasks import (
    AssignTaskInput,
    ClaimTaskInput,
    CompleteTaskInput,
    PlaceCallInput,
    VisitCheckInput,
    VisitSlotInput,
)
from operations import staff
from operations.answers import Answer, Outcome
from operations.approvals import act_or_ask
from operations.cases import as_case
from operations.catalogue import update_name
from operations.gateway import Gateway
from operations.roles import Role
from readmodel import queries
from readmodel.engine import Database
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


async def assign_task(
    gateway: Gateway,
    db: Database,
    task_key: str,
    assignee: str,
    reason: str = "",
    *,
    only_unassigned: bool = False,
) -> Answer[ActionResult]:
    """Puts an open task in one person's queue; an unknown, inactive or unfit person is refused
    here, before the case is asked, and nothing changes."""
    row = await queries.get_task(db, task_key=task_key)
    if row is None:
        return Answer(Outcome.NOT_FOUND, message=f"no task {task_key}")
    if problem := await assignee_problem(db, assignee, row.queue):
        return Answer(Outcome.REFUSED, message=problem)
    req = AssignTaskInput(
        task_key=task_key,
        assignee=assignee.strip(),
        reason=reason,
        only_unassigned=only_unassigned,
    )
    return as_case(row.case_id, await gateway.update(row.case_id, Case.assign_task, req))


async def book_visit(gateway: Gateway, case_id: str, req: VisitSlotInput) -> Answer[ActionResult]:
    return as_case(case_id, await gateway.update(case_id, Case.book_visit, req))


async def check_visit(
    gateway: Gateway, case_id: str, req: VisitCheckInput, *, leaving: bool
) -> Answer[ActionResult]:
    """A collector at the door (`leaving=False`) or leaving it."""
    update = Case.check_out_visit if leaving else Case.check_in_visit
    return as_case(case_id, await gateway.update(case_id, update, req))


async def place_call(gateway: Gateway, case_id: str, req: PlaceCallInput) -> Answer[ActionResult]:
    """Click-to-call: the case asks the contact policy, then rings the customer and bridges the
    collector's phone; a call the policy refuses now is answered (not accepted) with why and
    when the customer may next be called."""
    return as_case(case_id, await gateway.update(case_id, Case.place_call, req))


async def claim_task(
    gateway: Gateway, case_id: str, task_key: str, collector: str
) -> Answer[ActionResult]:
    claim = ClaimTaskInput(task_key=task_key, collector=collector)
    return as_case(case_id, await gateway.update(case_id, Case.claim_task, claim))


async def complete_task(
    gateway: Gateway, db: Database, case_id: str, report: CompleteTaskInput
) -> Answer[ActionResult]:
    """The outcome steers the case: a promise pauses contact, not found plans a visit ...
    Upholding a dispute and approving a legal referral wait for a second person."""
    return as_case(case_id, await act_or_ask(gateway, db, case_id, Case.complete_task, report))


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
