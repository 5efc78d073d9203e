"""How `inbox show` words a handoff's live state: a risk review or a legal referral, as
name-value pairs, free text masked."""

from __future__ import annotations

from cli.actions import at_minute, day, masked
from models.departments import LegalReferralStatus, RiskDecision, RiskReviewStatus
from models.money import money


def review_fields(review: RiskReviewStatus) -> list[tuple[str, str]]:
    s = review.summary
    pairs = [
        ("review", f"{review.status}, {review.escalations} escalation(s)"),
        ("deadline", at_minute(review.deadline)),
        ("account", f"{s.account_no} ({s.product}), customer ref {s.customer_ref}"),
        ("outstanding", money(s.outstanding_minor, s.currency)),
        ("overdue", money(s.overdue_minor, s.currency)),
        ("days past due", str(s.days_past_due)),
        ("segment", f"{s.segment} (score {s.score})"),
        ("history", f"{s.promises_kept} kept, {s.promises_broken} broken, {s.contacts_sent} sent"),
    ]
    decision = review.decision
    if decision is not None:
        pairs.append(("decision", decision_text(decision, s.currency)))
    return pairs


def decision_text(decision: RiskDecision, currency: str) -> str:
    text = f"{decision.kind} by {decision.decided_by}: {masked(decision.reason)}"
    if decision.forbearance_until is not None:
        text += f"; until {day(decision.forbearance_until)}"
    if decision.instalments:
        plan = ", ".join(
            f"{day(i.due_date)} {money(i.amount_minor, currency)}" for i in decision.instalments
        )
        text += f"; instalments {plan}"
    return text


def referral_fields(referral: LegalReferralStatus) -> list[tuple[str, str]]:
    pairs = [
        ("referral", referral.status),
        ("approved by", referral.approved_by or "-"),
        ("accepted by", referral.accepted_by or "-"),
        ("contact allowed", "yes" if referral.contact_allowed else "no"),
    ]
    pairs += [
        (f"precondition {p.name}", ("met" if p.met else "NOT met") + f": {masked(p.evidence)}")
        for p in referral.preconditions
    ]
    pairs += [
        (
            f"proceeding {p.kind}",
            f"on {day(p.on)} by {p.by}"
            + (f", amount {p.amount_minor}" if p.amount_minor is not None else "")
            + (f": {masked(p.note)}" if p.note else ""),
        )
        for p in referral.proceedings
    ]
    if referral.outcome is not None:
        pairs.append(("outcome", f"{referral.outcome.kind}: {masked(referral.outcome.reason)}"))
    return pairs
