"""Message templates in zh-CN and en, keyed by name.

A message says no more than it must: never the customer's name, at most the last 4 characters
of the account number, an amount only where the template needs it, and the bank's name from
`params`. Every SMS ends with an opt-out line. Voice templates render to TwiML and carry only a
call-back request, because a call may reach a voicemail or someone other than the debtor.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Formatter

from twilio.twiml.voice_response import VoiceResponse

from models.contracts import Language

# The only params a template may receive; anything else (a name, a full account number under
# another key) is refused rather than silently carried along.
PARAMS = frozenset({"bank", "last4", "amount", "date", "agent"})

OPT_OUT = {
    Language.EN: " Reply STOP to opt out.",
    Language.ZH_CN: "回复TD退订",
}

_SAY_LANGUAGE = {Language.EN: "en-US", Language.ZH_CN: "zh-CN"}


@dataclass(frozen=True)
class Template:
    voice: bool
    text: dict[Language, str]
    bridge: bool = False  # a collector's call: once the customer answers, dial the `agent`


TEMPLATES: dict[str, Template] = {
    "reminder_friendly": Template(
        voice=False,
        text={
            Language.EN: "{bank}: a payment on your account ending {last4} is past due. "
            "Please pay at your convenience, or contact us if you need help.",
            Language.ZH_CN: "【{bank}】您尾号{last4}的账户有一笔款项已到期未还，"
            "请方便时尽快还款；如有困难，欢迎联系我们。",
        },
    ),
    "reminder_firm": Template(
        voice=False,
        text={
            Language.EN: "{bank}: {amount} is overdue on your account ending {last4}. "
            "Please pay now, or contact us to agree a plan.",
            Language.ZH_CN: "【{bank}】您尾号{last4}的账户逾期金额{amount}，"
            "请立即还款，或联系我们商定还款安排。",
        },
    ),
    "reminder_final": Template(
        voice=False,
        text={
            Language.EN: "{bank}: reminder: {amount} is still overdue on your account ending "
            "{last4}. Please pay or contact us so that we can help.",
            Language.ZH_CN: "【{bank}】提醒：您尾号{last4}的账户仍有{amount}逾期未还，"
            "请尽快还款或与我们联系，我们将协助您处理。",
        },
    ),
    "promise_confirmation": Template(
        voice=False,
        text={
            Language.EN: "{bank}: thank you. We have noted your promise to pay {amount} by "
            "{date} on your account ending {last4}.",
            Language.ZH_CN: "【{bank}】感谢您的配合，已记录您承诺于{date}前为尾号{last4}的账户"
            "还款{amount}。",
        },
    ),
    "promise_reminder": Template(
        voice=False,
        text={
            Language.EN: "{bank}: a reminder of your promise to pay {amount} by {date} on your "
            "account ending {last4}.",
            Language.ZH_CN: "【{bank}】温馨提示：您承诺于{date}前为尾号{last4}的账户还款{amount}。",
        },
    ),
    "closing_paid": Template(
        voice=False,
        text={
            Language.EN: "{bank}: thank you, your account ending {last4} is now up to date. "
            "You will receive no further reminders about it.",
            Language.ZH_CN: "【{bank}】感谢您，尾号{last4}的账户已结清逾期款项，"
            "我们不会再就此提醒您。",
        },
    ),
    "closing_settled": Template(
        voice=False,
        text={
            Language.EN: "{bank}: your account ending {last4} has been settled. "
            "You will receive no further reminders about it.",
            Language.ZH_CN: "【{bank}】您尾号{last4}的账户已处理完毕，我们不会再就此提醒您。",
        },
    ),
    "closing_cured": Template(
        voice=False,
        text={
            Language.EN: "{bank}: thank you, the arrears on your account ending {last4} are "
            "cleared and it is back within its terms.",
            Language.ZH_CN: "【{bank}】感谢您，尾号{last4}账户的逾期款项已还清，账户已恢复正常。",
        },
    ),
    "voice_reminder": Template(
        voice=True,
        text={
            Language.EN: "Hello, this is {bank} with a message for the holder of the account "
            "ending {last4}. Please call us back at your earliest convenience. Thank you.",
            Language.ZH_CN: "您好，这里是{bank}，有一则关于尾号{last4}账户的信息，"
            "请账户持有人方便时尽快回电。谢谢。",
        },
    ),
    # Click-to-call: the customer's phone rings first; when they answer, a short hold line
    # (which names no debt: anyone may have picked up) and the collector's phone is dialled.
    # The collector confirms they speak with the customer before saying why the bank calls.
    "voice_bridge": Template(
        voice=True,
        bridge=True,
        text={
            Language.EN: "Hello, this is {bank}. Please hold while we connect your call.",
            Language.ZH_CN: "您好，这里是{bank}，正在为您接通，请稍候。",
        },
    ),
}

BRIDGE_RING_SECONDS = 30  # how long the collector's phone rings before the bridge gives up


def is_voice(template: str) -> bool:
    return _template(template).voice


def required_params(template: str) -> frozenset[str]:
    text = next(iter(_template(template).text.values()))
    return frozenset(name for _, name, _, _ in Formatter().parse(text) if name)


def render(template: str, language: Language, params: dict[str, str]) -> str:
    """The SMS text, or the TwiML document for a voice template.

    Errors name the template and the param, never a value, so they are safe to log.
    """
    spec = _template(template)
    unknown = sorted(set(params) - PARAMS)
    if unknown:
        raise ValueError(f"template {template!r}: unknown params {', '.join(unknown)}")
    needed = required_params(template) | ({"agent"} if spec.bridge else set())
    missing = sorted(needed - {k for k, v in params.items() if v.strip()})
    if missing:
        raise ValueError(f"template {template!r}: missing params {', '.join(missing)}")
    values = {k: v.strip() for k, v in params.items()}
    if "last4" in values:
        # Whatever the caller passed, no more than the last 4 characters are ever shown.
        values["last4"] = values["last4"][-4:]
    text = spec.text[Language(language)].format(**values)
    if spec.voice:
        response = VoiceResponse()
        response.say(text, language=_SAY_LANGUAGE[Language(language)])
        if spec.bridge:
            response.dial(values["agent"], timeout=BRIDGE_RING_SECONDS)
        return str(response)
    return text + OPT_OUT[Language(language)]


def _template(template: str) -> Template:
    spec = TEMPLATES.get(template)
    if spec is None:
        raise ValueError(f"unknown template {template!r}")
    return spec
