from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from activities.messaging.templates import OPT_OUT, PARAMS, TEMPLATES, render, required_params
from models.contracts import Language

PARAMS_FULL = {
    "bank": "Example Bank",
    "last4": "5678",
    "amount": "CNY 1234.56",
    "date": "2025-07-01",
}
SMS = sorted(name for name, spec in TEMPLATES.items() if not spec.voice)
VOICE = sorted(name for name, spec in TEMPLATES.items() if spec.voice and not spec.bridge)


def test_the_ladder_templates_exist() -> None:
    for name in ("reminder_friendly", "reminder_firm", "reminder_final", "voice_reminder"):
        assert name in TEMPLATES
    assert "promise_confirmation" in SMS and "closing_paid" in SMS


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("template", SMS)
def test_every_sms_carries_the_opt_out_and_only_what_it_needs(
    template: str, language: Language
) -> None:
    text = render(template, language, PARAMS_FULL)
    assert text.endswith(OPT_OUT[language].strip())
    assert "Example Bank" in text and "5678" in text
    assert ("CNY 1234.56" in text) == ("amount" in required_params(template))
    assert "{" not in text


def test_opt_out_lines() -> None:
    assert "Reply STOP to opt out" in render("reminder_friendly", Language.EN, PARAMS_FULL)
    assert "回复TD退订" in render("reminder_friendly", Language.ZH_CN, PARAMS_FULL)


def test_templates_use_only_the_known_params() -> None:
    for name in TEMPLATES:
        assert required_params(name) <= PARAMS
        for text in TEMPLATES[name].text.values():
            assert "name" not in text


@pytest.mark.parametrize("language", list(Language))
def test_only_the_last_four_characters_of_the_account_are_shown(language: Language) -> None:
    text = render("reminder_firm", language, {**PARAMS_FULL, "last4": "6222020012345678"})
    assert "5678" in text
    assert "6222020012345678" not in text and "12345678" not in text


def test_a_customer_name_is_refused_with_an_error_that_does_not_repeat_it() -> None:
    with pytest.raises(ValueError, match="reminder_friendly") as info:
        render("reminder_friendly", Language.EN, {**PARAMS_FULL, "customer_name": "Zhang San"})
    assert "customer_name" in str(info.value)
    assert "Zhang San" not in str(info.value)


def test_missing_param_names_the_template_and_the_param() -> None:
    with pytest.raises(ValueError, match=r"'reminder_firm'.*amount"):
        render("reminder_firm", Language.EN, {"bank": "B", "last4": "1234"})


@pytest.mark.parametrize("language", list(Language))
def test_a_collectors_call_holds_the_customer_then_dials_the_collector(language: Language) -> None:
    root = ET.fromstring(
        render("voice_bridge", language, {**PARAMS_FULL, "agent": "+8613800000001"})
    )
    say, dial = list(root)
    assert (say.tag, dial.tag, dial.text, dial.get("timeout")) == (
        "Say",
        "Dial",
        "+8613800000001",
        "30",
    )
    # Whoever picks up hears the bank's name only: the collector confirms who they speak to.
    text = say.text or ""
    assert "Example Bank" in text and "5678" not in text and "CNY" not in text
    with pytest.raises(ValueError, match=r"'voice_bridge'.*agent"):
        render("voice_bridge", language, PARAMS_FULL)


def test_unknown_template() -> None:
    with pytest.raises(ValueError, match="unknown template 'nope'"):
        render("nope", Language.EN, PARAMS_FULL)


@pytest.mark.parametrize(("language", "say"), [(Language.ZH_CN, "zh-CN"), (Language.EN, "en-US")])
@pytest.mark.parametrize("template", VOICE)
def test_voice_renders_twiml_with_a_limited_message(
    template: str, language: Language, say: str
) -> None:
    root = ET.fromstring(render(template, language, PARAMS_FULL))
    assert root.tag == "Response"
    (element,) = list(root)
    assert element.tag == "Say" and element.get("language") == say
    text = element.text or ""
    assert "Example Bank" in text and "5678" in text
    # A call may reach a voicemail or a relative: no amount, no word of a debt.
    assert "CNY" not in text
    assert not any(word in text.lower() for word in ("overdue", "debt", "逾期", "欠款"))
