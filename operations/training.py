"""Training mode (`collections training`): a trainee works synthetic cases in a Temporal
namespace and a read model of their own, and sees their outcomes beside those a senior
recorded on the same cases.

- Where: the namespace `training-<trainee>` and the read model `var/training/<trainee>.db`;
  nothing a trainee does reaches the center's cases, and its messages go to the outbox only
  (`Settings.training`).
- The cases: drawn by the sample generator (`examples/make_sample.py`) from one fixed seed, so
  every trainee, and the senior, works the same accounts; dated back from the day they start.
- The answers: what a senior recorded in their own training read model
  (`readmodel.training`), kept as a JSON file; `compare` scores a trainee's against them.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import sys
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

from google.protobuf.duration_pb2 import Duration
from pydantic import TypeAdapter
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

from config.settings import PROJECT_ROOT, Settings
from models.intake import ParsedIntake, parse_intake
from operations import staff
from readmodel.engine import Database
from readmodel.training import CaseAnswer

# The same accounts for everyone, on one strategy (config/policies/training.toml: real days, so a
# task stays open while a trainee thinks; every case a collector's at once), so that a senior's
# answers were given on the same cases under the same rules.
TRAINING_SEED = 1717
TRAINING_POLICY = "training"
DEFAULT_CASES = 20
NAMESPACE_PREFIX = "training-"
SAMPLE_GENERATOR = PROJECT_ROOT / "examples" / "make_sample.py"
EXAMPLE_ANSWERS = PROJECT_ROOT / "examples" / "training" / "answers.json"
PROMISE_TOLERANCE_PERCENT = 10


class TrainingError(ValueError):
    """A training request that cannot be done; the message says what."""


def check_trainee(trainee: str) -> str:
    """A trainee is named as a person of the staff directory is (`ann.li`)."""
    if not staff.PERSON_ID.match(trainee):
        raise TrainingError(
            "a trainee's id is 2 to 64 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    return trainee


def namespace_for(trainee: str) -> str:
    return NAMESPACE_PREFIX + check_trainee(trainee)


def database_path(var_dir: Path, trainee: str) -> Path:
    return var_dir / "training" / f"{check_trainee(trainee)}.db"


def answers_path(settings: Settings) -> Path:
    """The senior's answers a trainee is compared with: the center's own, when one was put at
    `var/training/answers.json`, else the reference checked in with the project."""
    own = settings.var_dir / "training" / "answers.json"
    return own if own.exists() else EXAMPLE_ANSWERS


# --- the synthetic cases ----------------------------------------------------------------------


def _sample_generator() -> ModuleType:
    """examples/make_sample.py, the one generator of fictional accounts (examples/ is no
    package: it is loaded from its file)."""
    name = "collections_examples_make_sample"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SAMPLE_GENERATOR)
    if spec is None or spec.loader is None:
        raise TrainingError(f"the sample generator is missing: {SAMPLE_GENERATOR}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def synthetic_file(count: int, *, as_of: date, seed: int = TRAINING_SEED) -> str:
    """`count` fictional accounts as a daily overdue file, each on the training strategy. The
    generator draws the account numbers apart from the dates, so they are the same whatever
    `as_of`."""
    if count < 1:
        raise TrainingError("a training needs at least one case")
    generator = _sample_generator()
    sample = generator.Sample(seed, as_of)
    strategy = generator.HEADER.index("strategy")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(generator.HEADER)
    for _ in range(count):
        row = list(sample.row())
        row[strategy] = TRAINING_POLICY
        writer.writerow(row)
    return out.getvalue()


def synthetic_intake(count: int, *, as_of: date, strategies: Collection[str]) -> ParsedIntake:
    """The synthetic cases as checked intake rows, through the intake's own checks."""
    return parse_intake(
        synthetic_file(count, as_of=as_of),
        as_of=as_of,
        strategies=strategies,
    )


# --- the trainee's namespace and seat -----------------------------------------------------------


async def register_namespace(client: Client, namespace: str, *, retention_days: int) -> bool:
    """Registers `namespace` unless Temporal knows it; True when it was registered now. A
    namespace just registered answers "not found" for a moment (`search_attributes_in`)."""
    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace)
        )
        return False
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
    try:
        await client.workflow_service.register_namespace(
            RegisterNamespaceRequest(
                namespace=namespace,
                description="collections training",
                workflow_execution_retention_period=Duration(seconds=retention_days * 24 * 3600),
            )
        )
    except RPCError as again:  # registered meanwhile by another start
        if again.status != RPCStatusCode.ALREADY_EXISTS:
            raise
        return False
    return True


async def search_attributes_in(
    client: Client, namespace: str, keys: Iterable[SearchAttributeKey[Any]]
) -> bool | None:
    """True once the project's search attributes are in `namespace` (a case cannot start
    where they are missing); else adds what is missing and answers None: ask again."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        missing = {
            key.name: IndexedValueType.ValueType(key.indexed_value_type)
            for key in keys
            if key.name not in listed.custom_attributes
        }
        if not missing:
            return True
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    except RPCError as error:
        if error.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.ALREADY_EXISTS):
            raise
    return None


async def seat_trainee(db: Database, trainee: str) -> str | None:
    """The trainee as a collector in their read model: their one-time password (show it
    once), or None when they are there already (their password stays as they set it)."""
    if await staff.find(db, trainee) is not None:
        return None
    return await staff.add(db, trainee, name=f"Trainee {trainee}", roles=["collector"])


# --- the senior's answers and the comparison --------------------------------------------------


@dataclass(frozen=True)
class AnswerSheet:
    """A senior's answers on the synthetic cases (`collections training answers`)."""

    by: str
    cases: tuple[CaseAnswer, ...]
    seed: int = TRAINING_SEED
    policy: str = TRAINING_POLICY


_SHEET = TypeAdapter(AnswerSheet)


def answers_json(sheet: AnswerSheet) -> str:
    return _SHEET.dump_json(sheet, indent=2).decode() + "\n"


def read_answers(text: str | bytes) -> AnswerSheet:
    """An answers file; `TrainingError` saying where it is malformed (never quoting it)."""
    try:
        return _SHEET.validate_json(text)
    except ValueError as error:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}"
            for e in getattr(error, "errors", lambda: [])()[:3]
        )
        raise TrainingError(f"not an answers file ({where or type(error).__name__})") from None


@dataclass(frozen=True)
class CaseComparison:
    """One case: the senior's answer, the trainee's (None: not worked yet), and the checks."""

    senior: CaseAnswer
    trainee: CaseAnswer | None
    same_outcome: bool
    same_right_party: bool
    promise_close: bool  # both without a promise, or within 10% of the senior's amount

    @property
    def account_last4(self) -> str:
        return self.senior.account_no[-4:]

    @property
    def points(self) -> int:
        return sum((self.same_outcome, self.same_right_party, self.promise_close))

    @property
    def matched(self) -> bool:
        return self.points == CHECKS


CHECKS = 3  # outcome, right party, promise


@dataclass(frozen=True)
class Comparison:
    cases: tuple[CaseComparison, ...]

    @property
    def worked(self) -> int:
        return sum(1 for c in self.cases if c.trainee is not None)

    @property
    def matched(self) -> int:
        return sum(1 for c in self.cases if c.matched)

    @property
    def points(self) -> int:
        return sum(c.points for c in self.cases)

    @property
    def score(self) -> float:
        """Points over every check of every case the senior answered: 1.0 is all the same;
        a case not worked yet counts none."""
        return self.points / (CHECKS * len(self.cases)) if self.cases else 0.0


def promise_close(senior: int | None, trainee: int | None) -> bool:
    if senior is None or trainee is None:
        return senior is None and trainee is None
    return abs(trainee - senior) * 100 <= senior * PROMISE_TOLERANCE_PERCENT


def compare(senior: Sequence[CaseAnswer], trainee: Sequence[CaseAnswer]) -> Comparison:
    """Each case the senior answered, beside what the trainee recorded on the same account."""
    theirs = {answer.account_no: answer for answer in trainee}
    cases = []
    for reference in senior:
        mine = theirs.get(reference.account_no)
        if mine is None:
            cases.append(CaseComparison(reference, None, False, False, False))
            continue
        cases.append(
            CaseComparison(
                reference,
                mine,
                same_outcome=mine.outcome == reference.outcome,
                same_right_party=mine.right_party == reference.right_party,
                promise_close=promise_close(
                    reference.promised_amount_minor, mine.promised_amount_minor
                ),
            )
        )
    return Comparison(tuple(cases))
