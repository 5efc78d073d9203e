"""The collectors' call scripts (`config/scripts.toml`): read, checked, and filled in for a call.

A script is the disclosures DOMAIN.md requires, in the order they are said, around the words of
the case's stage. The file is checked as it is read, and an error names the file and the key,
as a policy file's does (`config.strategy`): both languages, every stage a task is worked in,
every disclosure, known placeholders only, and nothing about the debt in what is said before
the customer is confirmed on the line.
"""

from __future__ import annotations

import functools
import string
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.contracts import Stage

SCRIPTS_FILE = Path(__file__).resolve().parent / "scripts.toml"
LANGUAGES = ("zh", "en")
# Said in this order; the stage's own words are the `purpose`.
STEPS = (
    "identify",
    "right_party",
    "third_party",
    "recorded",
    "purpose",
    "dispute",
    "no_more_calls",
)
DISCLOSURES = tuple(step for step in STEPS if step != "purpose")
WORKED_STAGES = (Stage.EARLY, Stage.COLLECTOR, Stage.RISK_REVIEW, Stage.LEGAL)
PLACEHOLDERS = frozenset(
    {"collector", "bank", "account_tail", "product", "dpd", "overdue", "outstanding"}
)
ABOUT_THE_DEBT = frozenset({"product", "dpd", "overdue", "outstanding"})
BEFORE_CONFIRMED = frozenset({"identify", "right_party", "third_party"})
MUST_NAME = {"identify": frozenset({"collector", "bank"})}


class ScriptError(ValueError):
    """A scripts file that cannot be used, with the file and the key that are wrong."""


@dataclass(frozen=True)
class Line:
    step: str  # one of STEPS
    text: str
    disclosure: bool  # one the rules require, not the stage's own words


@dataclass(frozen=True)
class LanguageScripts:
    disclosures: dict[str, str]
    stages: dict[str, str]
    products: dict[str, str]  # a product code's name in this language


@dataclass(frozen=True)
class Scripts:
    version: str
    languages: dict[str, LanguageScripts]

    def for_call(self, stage: str, language: str, values: dict[str, str]) -> tuple[Line, ...]:
        """The lines of a call in `stage` to a customer who speaks `language` (`zh-CN`, `en`
        ...), filled with `values` (one per placeholder; `product` as its code). A stage the
        file has no words for (a closed case) has the disclosures alone."""
        texts = self.languages[language_of(language)]
        product = values.get("product", "")
        filled = {**values, "product": texts.products.get(product, product)}
        lines = []
        for step in STEPS:
            text = texts.stages.get(stage) if step == "purpose" else texts.disclosures[step]
            if text is not None:
                lines.append(Line(step, text.format_map(filled), step != "purpose"))
        return tuple(lines)


def language_of(language: str) -> str:
    """A customer's language (`zh-CN`, `en` ...) as the scripts name it: Chinese or English."""
    return "zh" if language.lower().startswith("zh") else "en"


def load_scripts(path: Path = SCRIPTS_FILE) -> Scripts:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScriptError(f"{path}: no such scripts file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScriptError(f"{path}: not valid TOML: {exc}") from None
    try:
        return _scripts(raw)
    except ValueError as exc:
        raise ScriptError(f"{path}: {exc}") from None


def current_scripts(path: Path = SCRIPTS_FILE) -> Scripts:
    """The file as it is now: parsed again only when it has changed. Blocking (a stat)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ScriptError(f"{path}: no such scripts file") from None
    return _parsed(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _parsed(path: Path, mtime_ns: int, size: int) -> Scripts:
    return load_scripts(path)


def _scripts(raw: dict[str, Any]) -> Scripts:
    version = raw.get("version")
    if not isinstance(version, str) or not version:
        raise ValueError("'version' must be a non-empty string")
    _no_other_keys("the file", raw, {"version", *LANGUAGES})
    return Scripts(version, {language: _language(language, raw) for language in LANGUAGES})


def _language(language: str, raw: dict[str, Any]) -> LanguageScripts:
    section = raw.get(language)
    if not isinstance(section, dict):
        raise ValueError(f"[{language}] is missing")
    _no_other_keys(f"[{language}]", section, {"disclosures", "stages", "products"})
    products = section.get("products", {})
    return LanguageScripts(
        disclosures=_texts(
            f"{language}.disclosures", section.get("disclosures"), DISCLOSURES, DISCLOSURES
        ),
        stages=_texts(
            f"{language}.stages", section.get("stages"), WORKED_STAGES, [s.value for s in Stage]
        ),
        products=_texts(f"{language}.products", products, (), products),
    )


def _texts(name: str, raw: Any, required: Sequence[str], allowed: Iterable[str]) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ValueError(f"[{name}] is missing")
    missing = [key for key in required if key not in raw]
    if missing:
        raise ValueError(f"[{name}] has no {', '.join(missing)}")
    _no_other_keys(f"[{name}]", raw, set(allowed))
    for key, text in raw.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"[{name}] '{key}' must be a non-empty string")
        used = _placeholders(name, key, text)
        if not name.endswith(".disclosures"):
            continue
        if key in BEFORE_CONFIRMED and used & ABOUT_THE_DEBT:
            raise ValueError(
                f"[{name}] '{key}' is said before the customer is confirmed: it may not use "
                f"{_braced(used & ABOUT_THE_DEBT)}"
            )
        if unnamed := MUST_NAME.get(key, frozenset()) - used:
            raise ValueError(f"[{name}] '{key}' must use {_braced(unnamed)}")
    return dict(raw)


def _braced(names: Iterable[str]) -> str:
    return ", ".join(f"{{{name}}}" for name in sorted(names))


def _placeholders(name: str, key: str, text: str) -> set[str]:
    where = f"[{name}] '{key}'"
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc} (write a brace as {{{{ or }}}})") from None
    used = set()
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in PLACEHOLDERS or spec or conversion:
            raise ValueError(
                f"{where} uses {{{field}}}; the placeholders are {_braced(PLACEHOLDERS)}"
            )
        used.add(field)
    return used


def _no_other_keys(where: str, raw: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise ValueError(f"{where} has unknown key(s) {', '.join(sorted(unknown))}")
