"""Customers' names and phone numbers are nowhere in clear at rest: the whole local stack (`up`)
takes a day's file with known names and numbers, sends reminders, shows a number to a
collector who says why, records a reason that names the customer, and closes a case; then the
raw bytes of every file it wrote (the Temporal database, the read model with its WAL, every
log) are searched for each name and number. None is found, while the same data reads back
through the API: it is there, sealed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from config.settings import PROJECT_ROOT
from tests.cli.test_up import Ports, _env, _stop, _up
from tests.cli.test_up import ports as ports

pytestmark = pytest.mark.integration

# Distinctive, so a hit can only be a leak.
CUSTOMERS = [
    ("NCLR00000000001", "欧阳明珠", "+8613912345671"),
    ("NCLR00000000002", "Zebulon Quartermaine", "+8613912345672"),
    ("NCLR00000000003", "Philippa Fairweather", "+447700900123"),
]


def _daytime_zone() -> str:
    """A time zone where it is mid-morning now, so reminders may go out at once."""
    now = datetime.now(UTC)
    for hours in range(-12, 15):
        if (now + timedelta(hours=hours)).hour in range(9, 16):
            return f"Etc/GMT{-hours:+d}"  # POSIX style: the sign is inverted
    raise AssertionError("some zone is at mid-morning")


def _daily_file(path: Path) -> None:
    zone, due = _daytime_zone(), date.today() - timedelta(days=10)
    lines = [
        "account_no,customer_ref,customer_name,mobile,language,time_zone,product,currency,"
        "outstanding_minor,overdue_minor,oldest_due_date"
    ]
    for n, (account, name, mobile) in enumerate(CUSTOMERS):
        lines.append(
            f"{account},NCLRCUST{n},{name},{mobile},zh-CN,{zone},card,CNY,300000,100000,{due}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _cli(tmp_path: Path, ports: Ports, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=PROJECT_ROOT,
        env={**_env(tmp_path, ports), "COLLECTIONS_POLICY": "demo"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _needles() -> list[str]:
    found = []
    for _, name, mobile in CUSTOMERS:
        found += [name, mobile, mobile.removeprefix("+"), mobile.removeprefix("+86")]
    return found


def test_names_and_numbers_are_nowhere_in_clear_at_rest(tmp_path: Path, ports: Ports) -> None:
    api = f"http://127.0.0.1:{ports.api}"
    with _up(tmp_path, ports) as up:
        daily = tmp_path / "daily.csv"  # the bank's file is outside var/: it is the input
        _daily_file(daily)
        intake = _cli(tmp_path, ports, "intake", str(daily), "--json")
        assert intake.returncode == 0, intake.stdout + intake.stderr

        added = _cli(
            tmp_path,
            ports,
            "staff",
            "add",
            "sup.scan",
            "--name",
            "Sup",
            "--role",
            "supervisor",
            "--json",
        )
        assert added.returncode == 0, added.stderr
        one_time = json.loads(added.stdout)["one_time_password"]
        with httpx.Client(base_url=api, timeout=30) as http:
            signed = http.post("/console/signin", data={"staff": "sup.scan", "password": one_time})
            assert signed.status_code == 303, signed.text
            changed = http.post(
                "/console/password",
                data={"current": one_time, "new": "scan password 1", "confirm": "scan password 1"},
            )
            assert changed.status_code == 303

            first, second, third = (account for account, _, _ in CUSTOMERS)
            for _ in range(120):  # assessed, and its rows written
                if http.get(f"/cases/{third}").json().get("case"):
                    break
                time.sleep(0.5)
            else:
                raise AssertionError(f"case {third} not in the read model within 60 s")
            shown = http.get(
                f"/cases/{first}/contact-details", params={"reason": "calling the customer"}
            )
            assert shown.status_code == 200, shown.text
            assert (shown.json()["name"], shown.json()["mobile"]) == CUSTOMERS[0][1:]
            paused = http.post(
                f"/cases/{second}/pause",
                json={"reason": f"{CUSTOMERS[1][1]} on {CUSTOMERS[1][2]} asked for a week"},
            )
            assert paused.status_code == 200, paused.text
            paid = http.post(
                f"/cases/{third}/record_payment",
                json={"amount_minor": 300_000, "currency": "CNY", "payment_ref": "NCLR-PAY-1"},
            )
            assert paid.status_code == 200, paid.text
            # Texts gone out through the outbox (a reminder, or the paid case's closing text):
            # its log and the attempts table are among the files searched.
            for _ in range(120):
                kinds = [
                    [event["kind"] for event in http.get(f"/cases/{case}/timeline").json()]
                    for case in (first, third)
                ]
                if all("contact_sent" in k for k in kinds):
                    break
                time.sleep(0.5)
            else:
                raise AssertionError(f"a text to each of {first} and {third}: not within 60 s")
            timeline = http.get(f"/cases/{second}/timeline").json()
            assert any(CUSTOMERS[1][1] in event["detail"] for event in timeline)
        _stop(up, tmp_path)

    written = [p for p in (tmp_path / "var").rglob("*") if p.is_file()]
    written.append(tmp_path / "up.out")  # the stack's own console output
    assert {"collections.db", "temporal.db"} <= {p.name for p in written}
    read_model = (tmp_path / "var" / "collections.db").read_bytes()
    wal = tmp_path / "var" / "collections.db-wal"
    if wal.exists():
        read_model += wal.read_bytes()
    assert b"sealed1:" in read_model  # the data is there, sealed
    leaks = [
        (path.name, needle)
        for path in written
        for needle in _needles()
        if needle.encode() in path.read_bytes()
    ]
    assert leaks == []
