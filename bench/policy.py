"""The bench strategy: the default one, with the contact window open all day and the collector
stage beyond the sample's 120 days past due, so every case's first step is a reminder now.

Made from `config/policies/default.toml` at run time, so it never drifts from the default's
scorecard, ladders and history limit.
"""

from __future__ import annotations

import re
from pathlib import Path

from config.settings import POLICY_DIR

DEFAULT = POLICY_DIR / "default.toml"
CHANGES = {
    "name": '"bench"',
    "window_start": '"00:00"',  # 00:00-23:59 is the whole day (see contact_policy)
    "window_end": '"23:59"',
    "collector_dpd": "121",  # make_sample's accounts are 1 to 120 days past due
    "legal_dpd": "181",
}


def write_bench_policy(path: Path) -> Path:
    text = DEFAULT.read_text(encoding="utf-8")
    for key, value in CHANGES.items():
        text, found = re.subn(rf"(?m)^{key} = \S+", f"{key} = {value}", text, count=1)
        if found != 1:
            raise ValueError(f"{DEFAULT}: no `{key} = ...` line to change")
    path.write_text(text, encoding="utf-8")
    return path
