"""`ops/alerts.yml`: well-formed Prometheus rules whose expressions name only metrics that the
code exports (the API's, the worker's counters, and Prometheus' own `up`). PyYAML is not a
dependency, so the file keeps to a small subset of YAML that these tests read line by line."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.core import Metric

import activities.metrics  # noqa: F401  (registers the worker's counters)
from operations.metrics import BacklogGauges

RULES = Path(__file__).resolve().parents[2] / "ops" / "alerts.yml"
PROMETHEUS_OWN = {"up"}
LINE = re.compile(r"^(?P<indent> *)(?P<item>- )?(?P<key>[a-z_]+):(?: (?P<value>.+))?$")
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
}


def rules() -> list[dict[str, str]]:
    """Each rule's keys (nested ones by their last name: `severity`, `summary`)."""
    found: list[dict[str, str]] = []
    for number, line in enumerate(RULES.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = LINE.match(line)
        assert match, f"line {number} is not `key: value` YAML: {line!r}"
        assert len(match["indent"]) % 2 == 0, f"line {number}: indent by two spaces"
        if match["key"] == "alert" and match["item"]:
            found.append({})
        if found and match["value"] is not None:
            assert match["key"] not in found[-1], f"line {number}: {match['key']} twice"
            found[-1][match["key"]] = match["value"]
    return found


def exported(families: Iterable[Metric]) -> set[str]:
    return {f"{f.name}{suffix}" for f in families for suffix in SUFFIXES[f.type]}


def metric_names(expr: str) -> set[str]:
    """The series an expression selects: its identifiers without label matchers, `by (...)`
    groupings, ranges, strings, functions and numbers."""
    bare = re.sub(r'\{[^}]*\}|\[[^]]*\]|"[^"]*"|\b(by|without)\s*\([^)]*\)', " ", expr)
    names = set(re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", bare))
    return names - {"and", "or", "unless", "bool", "offset"}


def test_every_rule_has_an_expression_a_duration_a_severity_and_words() -> None:
    found = rules()
    assert [r["alert"] for r in found] == [
        "CollectionsSlaBreached",
        "CollectionsSendFailureRate",
        "CollectionsIntakeFileLate",
        "CollectionsIntakeFileMissing",
        "CollectionsWorkerDown",
        "CollectionsUpdateLatencyHigh",
    ]
    for rule in found:
        assert {"expr", "for", "severity", "summary", "description"} <= set(rule), rule
        assert rule["severity"] in {"warning", "critical"}
        assert re.fullmatch(r"\d+[smhd]", rule["for"]), rule
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["expr"]


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r["alert"])
def test_an_expression_names_only_metrics_the_code_exports(rule: dict[str, str]) -> None:
    known = exported(REGISTRY.collect()) | exported(BacklogGauges().collect()) | PROMETHEUS_OWN
    named = metric_names(rule["expr"])
    assert named, rule["expr"]
    assert named <= known, f"{rule['alert']} names {sorted(named - known)}, not exported"


def test_the_expression_reader_sees_through_promql() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, update) (rate(x_bucket{a=~"b|c"}[5m]))) > 2 '
        "and time() - max(y > 0) > 26 * 3600"
    )
    assert metric_names(expr) == {"x_bucket", "y"}
