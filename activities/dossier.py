"""The `build_dossier` activity: the legal dossier assembled from the read model
(`readmodel.dossier`) and stored on the referral's handoff row."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity
from temporalio.exceptions import ApplicationError

from models.departments import BuildDossierInput, DossierBuilt
from readmodel import writes
from readmodel.dossier import assemble_dossier
from readmodel.engine import Database


class DossierActivities:
    def __init__(self, db: Database) -> None:
        self._db = db

    @activity.defn(name="build_dossier")
    async def build_dossier(self, input: BuildDossierInput) -> DossierBuilt:
        """Builds the dossier and stores it on the handoff row, which must already exist.

        Returns counts only: the dossier grows with every contact over the years, and a
        workflow's history is no place for a document of that size. A retry rebuilds it."""
        dossier = await assemble_dossier(self._db, input=input, built_at=datetime.now(UTC))
        if not await writes.store_dossier(self._db, handoff_key=input.handoff_key, dossier=dossier):
            raise ApplicationError(
                f"no handoff row {input.handoff_key}: write_handoff comes first",
                type="HandoffMissing",
                non_retryable=True,
            )
        return DossierBuilt(
            handoff_key=input.handoff_key,
            built_at=datetime.fromisoformat(dossier["built_at"]),
            contacts=len(dossier["contacts"]),
            payments=len(dossier["payments"]),
            promises=len(dossier["promises"]),
        )
