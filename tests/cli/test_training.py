"""Training mode without a Temporal server: a trainee's settings never reach Twilio, the
synthetic cases are the same for everyone, a senior's answers export and read back as they
were recorded, and a trainee's read model (seeded by hand) is compared with hand-written answers
as counted by hand. The stack itself runs in `tests/integration/test_training.py`."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from activities.messaging.senders import OutboxSender, TwilioSender
from cli.actions import CommandEnv, CommandError
from cli.intake import policy_names
from cli.training import compare_answers, export_answers
from cli.training_stack import TrainingStack
from config.settings import load_settings
from models.tasks import TaskKind, TaskOutcome, TaskStatus
from operations import training
from readmodel.engine import Database
from readmodel.tables import CaseRow, HumanTaskRow, PromiseRecordRow
from readmodel.training import CaseAnswer, recorded_answers
from workers.main import make_sender

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
TWILIO = {
    "TWILIO_ACCOUNT_SID": "AC0123456789",
    "TWILIO_AUTH_TOKEN": "a-real-looking-token",
    "TWILIO_FROM_NUMBER": "+15005550006",
    "TWILIO_BASE_URL": "https://api.twilio.com",
    "TWILIO_STATUS_CALLBACK_URL": "https://bank.example/webhooks/twilio/status",
}
NO_FILE = Path("/nonexistent")


# --- never Twilio -------------------------------------------------------------------------------


def test_a_trainees_settings_never_build_a_twilio_sender(tmp_path: Path) -> None:
    assert isinstance(make_sender(load_settings(TWILIO, env_file=NO_FILE)), TwilioSender)
    trainee = load_settings({**TWILIO, "COLLECTIONS_TRAINING": "ann.li"}, env_file=NO_FILE)
    assert trainee.training == "ann.li"
    assert (trainee.twilio_account_sid, trainee.twilio_auth_token) == ("", None)
    assert not trainee.twilio_configured
    assert isinstance(make_sender(trainee), OutboxSender)
    # From `.env` too, and even on settings built with credentials in them.
    dotenv = tmp_path / ".env"
    dotenv.write_text("".join(f"{name}={value}\n" for name, value in TWILIO.items()))
    assert isinstance(make_sender(load_settings({}, env_file=dotenv)), TwilioSender)
    from_file = load_settings({"COLLECTIONS_TRAINING": "ann.li"}, env_file=dotenv)
    assert isinstance(make_sender(from_file), OutboxSender)
    built = dataclasses.replace(
        load_settings(TWILIO, env_file=NO_FILE), training="ann.li"
    )  # credentials kept, training set: still the outbox
    assert built.twilio_auth_token is not None and isinstance(make_sender(built), OutboxSender)


def test_the_training_stack_gives_its_children_a_world_of_their_own(tmp_path: Path) -> None:
    parent = load_settings({**TWILIO, "COLLECTIONS_VAR_DIR": str(tmp_path)}, env_file=NO_FILE)
    plan = TrainingStack.of(parent, "ann.li", port=8123, environ={**TWILIO, "TWILIO_REGION": "au1"})
    settings = plan.settings
    assert (settings.training, settings.temporal_namespace) == ("ann.li", "training-ann.li")
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'training' / 'ann.li.db'}"
    assert settings.api_port == 8123 and settings.policy_file.stem == "training"
    assert (settings.worker_metrics_port, settings.worker_sdk_metrics_port) == (0, 0)
    assert isinstance(make_sender(settings), OutboxSender)
    assert all(plan.env[name] == "" for name in [*TWILIO, "TWILIO_REGION"])
    with pytest.raises(training.TrainingError):
        TrainingStack.of(parent, "Ann Li", port=8123, environ={})


# --- the synthetic cases ------------------------------------------------------------------------


def test_the_synthetic_cases_are_the_same_for_everyone_whatever_the_day() -> None:
    def accounts(count: int, as_of: date) -> list[str]:
        rows = csv.DictReader(io.StringIO(training.synthetic_file(count, as_of=as_of)))
        return [row["account_no"] for row in rows]

    first = accounts(20, date(2026, 12, 5))
    assert len(set(first)) == 20
    assert first == accounts(20, date(2027, 3, 1))
    assert first[:5] == accounts(5, date(2026, 1, 1))
    parsed = training.synthetic_intake(20, as_of=date(2026, 12, 5), strategies=policy_names())
    assert not parsed.errors and len(parsed.valid) == 20
    assert {case.strategy_version for _, case in parsed.valid} == {training.TRAINING_POLICY}
    # The reference answers were given on these very accounts.
    reference = training.read_answers(training.EXAMPLE_ANSWERS.read_bytes())
    assert reference.cases and {a.account_no for a in reference.cases} <= set(first)


# --- a read model seeded by hand ----------------------------------------------------------------


def a_case(account: str) -> CaseRow:
    return CaseRow(
        case_id=f"case-{account}",
        account_no=account,
        customer_ref=f"C-{account}",
        stage="collector",
        segment="medium",
        score=40,
        strategy_version="training@1",
        days_past_due=40,
        currency="CNY",
        outstanding_minor=1_000_000,
        overdue_minor=200_000,
        opened_at=NOW - timedelta(days=1),
        updated_at=NOW,
    )


def a_task(
    account: str,
    n: int,
    by: str | None,
    outcome: TaskOutcome | None,
    *,
    right_party: bool | None = None,
    after: int = 0,
) -> HumanTaskRow:
    done = outcome is not None
    return HumanTaskRow(
        idempotency_key=f"case-{account}/1/t{n}",
        case_id=f"case-{account}",
        kind=TaskKind.COLLECTOR_CALL.value,
        queue="operations",
        assignee=by,
        status=(TaskStatus.DONE if done else TaskStatus.CLAIMED).value,
        outcome=outcome.value if outcome else None,
        right_party=right_party,
        deadline=NOW + timedelta(days=2),
        created_at=NOW,
        closed_at=NOW + timedelta(minutes=after) if done else None,
    )


def a_promise(account: str, by: str, amount: int, *, days: int = 7) -> PromiseRecordRow:
    return PromiseRecordRow(
        idempotency_key=f"case-{account}/p1",
        case_id=f"case-{account}",
        amount_minor=amount,
        currency="CNY",
        promised_date=NOW.date() + timedelta(days=days),
        made_at=NOW,
        status="open",
        made_by=by,
    )


PROMISE, REFUSED, REACHED, NOT_FOUND = (
    TaskOutcome.PROMISE_MADE,
    TaskOutcome.REFUSED,
    TaskOutcome.REACHED,
    TaskOutcome.NOT_FOUND,
)


def trainee_rows(by: str = "tia") -> list[object]:
    """What `by` did on six cases (the senior answered the first five: `SENIOR`)."""
    return [
        *(a_case(f"AC000{n}{n}{n}{n}") for n in range(1, 7)),
        # 1: as the senior, the promise 5% short of theirs.
        a_task("AC0001111", 1, by, PROMISE, right_party=True),
        a_promise("AC0001111", by, 95_000),
        # 2: a promise where the senior was refused.
        a_task("AC0002222", 1, by, PROMISE, right_party=True),
        a_promise("AC0002222", by, 20_000),
        # 3: reached, but says the customer answered where the senior says not.
        a_task("AC0003333", 1, by, REACHED, right_party=True),
        # 4: claimed, not done yet; somebody else's done task does not count as theirs.
        a_task("AC0004444", 1, by, None),
        a_task("AC0004444", 2, "sam", NOT_FOUND, right_party=False),
        # 5: a promise 12% above the senior's; a later call on it does not replace the first.
        a_task("AC0005555", 1, by, PROMISE, right_party=True, after=1),
        a_promise("AC0005555", by, 56_000),
        a_task("AC0005555", 2, by, REACHED, right_party=False, after=30),
        # 6: a case the senior did not answer.
        a_task("AC0006666", 1, by, REFUSED, right_party=True),
    ]


SENIOR = (
    CaseAnswer("AC0001111", "collector_call", "promise_made", True, 100_000, "CNY"),
    CaseAnswer("AC0002222", "collector_call", "refused", True),
    CaseAnswer("AC0003333", "collector_call", "reached", False),
    CaseAnswer("AC0004444", "collector_call", "not_found", False),
    CaseAnswer("AC0005555", "collector_call", "promise_made", True, 50_000, "CNY"),
)


async def seed(db: Database, rows: list[object]) -> None:
    async with db.session() as session:
        session.add_all(rows)


def env_on(db: Database, *, json_output: bool = False) -> CommandEnv:
    out = Console(file=io.StringIO(), width=250)
    settings = load_settings({}, env_file=NO_FILE)
    return CommandEnv(settings, json_output=json_output, out=out, db=db)


def printed(env: CommandEnv) -> str:
    file = env.out.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


async def test_a_trainee_is_compared_with_hand_written_answers(
    database: Database, tmp_path: Path
) -> None:
    await seed(database, trainee_rows())
    answers = tmp_path / "answers.json"
    answers.write_text(training.answers_json(training.AnswerSheet(by="sam", cases=SENIOR)))
    env = env_on(database, json_output=True)
    assert await compare_answers(env, answers=answers, by="tia") == 0
    document = json.loads(printed(env))
    # Counted by hand: 3 + 1 + 2 + 0 + 2 of 15 checks; one case matched, four worked.
    assert (document["points"], document["checks"]) == (8, 15)
    assert (document["cases_matched"], document["cases_worked"]) == (1, 4)
    assert document["score"] == round(8 / 15, 4)
    checks = [
        (c["same_outcome"], c["same_right_party"], c["promise_within_10_percent"])
        for c in document["cases"]
    ]
    assert checks == [
        (True, True, True),
        (False, True, False),
        (True, False, True),
        (False, False, False),
        (True, True, False),
    ]
    assert [c["account_last4"] for c in document["cases"]] == [
        "1111",
        "2222",
        "3333",
        "4444",
        "5555",
    ]
    assert document["cases"][3]["trainee"] is None
    assert document["cases"][4]["trainee"]["outcome"] == "promise_made"  # the first task
    assert "AC000" not in printed(env)  # last four digits only
    # The table says the same, in words.
    table = env_on(database)
    assert await compare_answers(table, answers=answers, by="tia") == 0
    text = printed(table)
    assert "score 53% (8 of 15 checks); 1 of 5 cases matched, 4 worked" in text
    assert "not worked yet" in text and "AC000" not in text


async def test_a_broken_answers_file_is_refused_saying_where(
    database: Database, tmp_path: Path
) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text('{"by": "sam", "cases": [{"outcome": "reached"}]}')
    with pytest.raises(CommandError) as refused:
        await compare_answers(env_on(database), answers=answers, by="tia")
    assert refused.value.code == 2 and "cases.0.account_no" in refused.value.message
    with pytest.raises(CommandError, match="cannot read"):
        await compare_answers(env_on(database), answers=tmp_path / "none.json", by="tia")


def test_a_promise_is_close_within_ten_percent_of_the_seniors() -> None:
    close = training.promise_close
    assert close(100_000, 110_000) and close(100_000, 90_000) and close(None, None)
    assert not close(100_000, 110_001) and not close(100_000, 89_999)
    assert not close(None, 1) and not close(1, None)


async def test_the_seniors_answers_export_and_read_back_as_recorded(database: Database) -> None:
    await seed(database, trainee_rows(by="sam"))
    env = env_on(database)
    assert await export_answers(env, by="sam") == 0
    sheet = training.read_answers(printed(env))
    assert sheet.by == "sam" and sheet.seed == training.TRAINING_SEED
    assert list(sheet.cases) == await recorded_answers(database, by="sam")
    by_account = {answer.account_no: answer for answer in sheet.cases}
    assert set(by_account) == {f"AC000{n}{n}{n}{n}" for n in range(1, 7)}
    assert by_account["AC0001111"] == CaseAnswer(
        "AC0001111",
        "collector_call",
        "promise_made",
        True,
        95_000,
        "CNY",
        NOW.date() + timedelta(days=7),
        7,
    )
    assert by_account["AC0004444"].outcome == "not_found"  # sam's own task there
    assert by_account["AC0005555"].outcome == "promise_made"
    # Read back, a trainee who did all the same matches on every case.
    again = training.compare(sheet.cases, await recorded_answers(database, by="sam"))
    assert again.score == 1.0 and again.matched == len(sheet.cases)
    with pytest.raises(CommandError) as nobody:
        await export_answers(env_on(database), by="nobody")
    assert nobody.value.code == 3
