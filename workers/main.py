"""Building and running workers: one function that the CLI, the local stack and tests share."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities.assessment import AssessmentActivities
from activities.case_store import CaseStoreActivities
from activities.dossier import DossierActivities
from activities.messaging.activities import MessagingActivities
from activities.messaging.senders import OutboxSender, Sender, TwilioSender
from activities.retention import RetentionActivities
from config.settings import Settings
from config.strategy import Assessor
from operations.activities.allocation import AllocationActivities
from operations.activities.daily_intake import INTAKE_ACTOR, DailyIntakeActivities, IntakeFolders
from operations.gateway import Gateway
from readmodel.engine import Database, open_database
from temporal.client import connect
from temporal.codec import codec_from_settings
from workers.metrics import sdk_runtime, serve_metrics
from workers.runners import runner_for
from workflows.acting import ActorInterceptor
from workflows.allocation import AllocationWorkflow
from workflows.case import CollectionCaseWorkflow
from workflows.daily_intake import DailyIntakeWorkflow
from workflows.legal_referral import LegalReferralWorkflow
from workflows.retention import RetentionWorkflow
from workflows.risk_review import RiskReviewWorkflow

log = logging.getLogger(__name__)


@dataclass
class Services:
    """The clients a worker's activities receive; tests build their own."""

    db: Database
    sender: Sender
    # Starts the daily intake's cases; `build_worker` gives the worker's own client.
    temporal: Client | None = None


def make_sender(settings: Settings) -> Sender:
    """Twilio when credentials are configured, the local outbox otherwise."""
    if settings.twilio_configured and settings.twilio_auth_token is not None:
        return TwilioSender(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            from_number=settings.twilio_from_number,
            base_url=settings.twilio_base_url or None,
            status_callback_url=settings.status_callback_url or None,
        )
    return OutboxSender()


def workflows_for(settings: Settings, queue: str) -> list[type]:
    queues = settings.task_queues
    hosted: dict[str, list[type]] = {
        queues.collections: [
            CollectionCaseWorkflow,
            RetentionWorkflow,
            DailyIntakeWorkflow,
            AllocationWorkflow,
        ],
        queues.risk: [RiskReviewWorkflow],
        queues.legal: [LegalReferralWorkflow],
    }
    return hosted.get(queue, [])


def activities_for(settings: Settings, queue: str, services: Services) -> list[Callable[..., Any]]:
    queues = settings.task_queues
    store = CaseStoreActivities(services.db)
    if queue == queues.collections:
        assessment = AssessmentActivities(settings.policy_file, settings.task_queues)
        messaging = MessagingActivities(services.sender, services.db)
        retention = RetentionActivities(services.db)
        return [
            assessment.assess_case,
            store.write_case,
            store.record_refused_attempt,
            messaging.send_contact,
            messaging.apply_delivery_status,
            retention.find_due_for_erasure,
            retention.erase_cases,
            *_using_temporal(settings, services),
        ]
    if queue == queues.risk:
        return [store.write_handoff]
    if queue == queues.legal:
        return [store.write_handoff, DossierActivities(services.db).build_dossier]
    return []


def _using_temporal(settings: Settings, services: Services) -> list[Callable[..., Any]]:
    """The activities that start or update cases themselves: the daily intake's, the
    allocator's (which acts as `svc-allocator` on each case it places a task of)."""
    if services.temporal is None:
        return []
    gateway = Gateway(
        services.temporal, answer_within=settings.answer_timeout_seconds, actor=INTAKE_ACTOR
    )
    intake = DailyIntakeActivities(
        gateway,
        services.db,
        IntakeFolders.from_settings(settings),
        task_queue=settings.task_queues.collections,
        assessor=Assessor.configured(settings),
    )
    allocator = AllocationActivities(gateway, services.db)
    return [intake.scan_drop_folder, intake.load_intake_file, allocator.allocate_open_tasks]


def build_worker(
    client: Client, settings: Settings, queue: str, services: Services, **options: Any
) -> Worker:
    if services.temporal is None:
        services = replace(services, temporal=client)
    return Worker(
        client,
        task_queue=queue,
        workflows=workflows_for(settings, queue),
        activities=activities_for(settings, queue, services),
        workflow_runner=runner_for(settings),
        activity_executor=ThreadPoolExecutor(max_workers=8),
        # With tracing on, the client's interceptor (`temporal.tracing`) comes before these.
        interceptors=[ActorInterceptor()],
        # At shutdown, activities in flight get this long before they are cancelled: a send
        # under way completes and is recorded, instead of being left in doubt for a retry.
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_grace_seconds),
        **options,
    )


async def run_worker(
    settings: Settings, queues: Sequence[str], stop: asyncio.Event | None = None
) -> None:
    """Hosts `queues` until `stop` is set, then shuts down gracefully: no more polling, and
    activities in flight have `worker_grace_seconds` to finish before they are cancelled.
    Cancelling it instead leaves at once."""
    serve_metrics(settings)
    client = await connect(settings, codec_from_settings(settings), runtime=sdk_runtime(settings))
    services = Services(db=open_database(settings), sender=make_sender(settings))
    # A queue whose department has no workflows here yet is skipped, not an error.
    hosted = [
        q for q in queues if workflows_for(settings, q) or activities_for(settings, q, services)
    ]
    workers = [build_worker(client, settings, q, services) for q in hosted]
    log.info("worker polling %s", ", ".join(queues))
    running: asyncio.Future[Any] = asyncio.gather(*(w.run() for w in workers))
    stopping: asyncio.Future[Any] = asyncio.ensure_future((stop or asyncio.Event()).wait())
    try:
        await asyncio.wait([running, stopping], return_when=asyncio.FIRST_COMPLETED)
        if stopping.done():
            log.info(
                "worker stopping: no more polling; activities in flight have %g s to finish",
                settings.worker_grace_seconds,
            )
            await asyncio.gather(*(w.shutdown() for w in workers))
        await running
    finally:
        stopping.cancel()
        running.cancel()
        await services.db.dispose()
