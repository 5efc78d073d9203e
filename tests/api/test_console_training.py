# ruff: noqa: F811  (fixtures are imported by name, below)
"""The console in a trainee's stack: a banner on every page, and the comparison page with the
trainee's outcomes beside the senior's (a read model seeded by hand, as in
`tests/cli/test_training.py`); outside training there is no banner and no such page."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI

from api import app as api_app
from operations import training
from operations.roles import Role
from readmodel.engine import Database
from tests.cli.test_training import SENIOR, seed, trainee_rows
from tests.people import PASSWORD, PEOPLE, people, sqlite_db  # noqa: F401
from tests.workflows.harness import test_settings as settings_for

TRAINEE = PEOPLE[Role.OPERATIONS]


def app_for(db: Database, var_dir: Path, *, trainee: str = "") -> FastAPI:
    """The app without Temporal (these pages read the read model only)."""
    settings = dataclasses.replace(settings_for("unused"), var_dir=var_dir, training=trainee)
    return api_app.create_app(settings, db=db)


@contextlib.asynccontextmanager
async def signed_in(app: FastAPI, person: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as browser:
        answer = await browser.post("/console/signin", data={"staff": person, "password": PASSWORD})
        assert answer.status_code == 303, answer.text
        yield browser


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split("<body>")[1]))


async def test_a_trainee_sees_the_banner_and_their_outcomes_beside_the_seniors(
    sqlite_db: Database, tmp_path: Path
) -> None:
    await seed(sqlite_db, trainee_rows(by=TRAINEE))
    (tmp_path / "training").mkdir()
    sheet = training.AnswerSheet(by="senior.sam", cases=SENIOR)
    (tmp_path / "training" / "answers.json").write_text(training.answers_json(sheet))
    app = app_for(sqlite_db, tmp_path, trainee=TRAINEE)
    async with signed_in(app, TRAINEE) as browser:
        cases = await browser.get("/console/cases")
        assert cases.status_code == 200
        assert f'data-training="{TRAINEE}"' in cases.text
        assert f"培训 — {TRAINEE}" in text_of(cases.text)
        assert 'href="/console/training" data-training-link' in cases.text
        page = await browser.get("/console/training")
        assert page.status_code == 200, page.text
        assert f'data-training="{TRAINEE}"' in page.text
        assert 'data-matched="1"' in page.text and 'data-worked="4"' in page.text
        assert f'data-score="{8 / 15:.4f}"' in page.text
        rows = re.findall(r'data-case="(\d{4})" data-case-matched="(yes|no)"', page.text)
        assert rows == [
            ("1111", "yes"),
            ("2222", "no"),
            ("3333", "no"),
            ("4444", "no"),
            ("5555", "no"),
        ]
        assert "AC000" not in page.text  # the last four digits only
        shown = text_of(page.text)
        assert "尚未处理" in shown and "senior.sam" in shown
        browser.cookies.set("collections_lang", "en")
        english = text_of((await browser.get("/console/training")).text)
        assert f"TRAINING — {TRAINEE}" in english
        assert "Promise 950.00 CNY, 7 days ahead" in english and "Not worked yet" in english
    async with signed_in(app, PEOPLE[Role.ADMIN]) as admin:
        assert (await admin.get("/console/training")).status_code == 403
        staff = await admin.get("/console/staff")
        assert "data-training=" in staff.text and "data-training-link" not in staff.text


async def test_outside_training_there_is_no_banner_and_no_comparison(
    sqlite_db: Database, tmp_path: Path
) -> None:
    app = app_for(sqlite_db, tmp_path)
    async with signed_in(app, TRAINEE) as browser:
        assert (await browser.get("/console/training")).status_code == 404
        cases = await browser.get("/console/cases")
        assert cases.status_code == 200 and "data-training" not in cases.text
