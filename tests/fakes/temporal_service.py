"""A Temporal gRPC service that answers every call with one status, as a server does when it
rate-limits (RESOURCE_EXHAUSTED) or cannot be reached (UNAVAILABLE): the real client on top."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from temporalio.client import Client
from temporalio.service import ConnectConfig, RPCError, RPCStatusCode, ServiceClient

from temporal.client import data_converter


class RefusingService(ServiceClient):
    """Temporal's gRPC service answering every call with one status, as a server does when it
    rate-limits (RESOURCE_EXHAUSTED) or cannot be reached (UNAVAILABLE)."""

    def __init__(self, refusal: RPCStatusCode) -> None:
        super().__init__(ConnectConfig(target_host="refusing:7233"))
        self.refusal = refusal

    @property
    def worker_service_client(self) -> Any:
        raise NotImplementedError

    def update_rpc_metadata(self, metadata: Mapping[str, str | bytes]) -> None:
        pass

    def update_api_key(self, api_key: str | None) -> None:
        pass

    async def _rpc_call(self, rpc: str, *args: Any, **kwargs: Any) -> Any:
        raise RPCError(f"{rpc}: {self.refusal.name}", self.refusal, b"")


def unreached_client() -> Client:
    """A real client for an app that must never reach Temporal: every call is UNAVAILABLE."""
    return Client(RefusingService(RPCStatusCode.UNAVAILABLE), data_converter=data_converter())
