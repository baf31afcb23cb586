"""The gateway's own access log: who ran which GraphQL operation, when, under which trace.

It is the only data the gateway owns, kept in its own database through PyMongo's asyncio client (motor's
successor). Entries hold the operation name and a pseudonymous actor id, never variables or results.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

from pymongo import AsyncMongoClient

from kit.settings import Settings

log = logging.getLogger("actionplan.gateway.audit")
COLLECTION = "access_log"


class AccessLog:
    def __init__(self, settings: Settings) -> None:
        self._client = AsyncMongoClient(settings.mongo_uri, serverSelectionTimeoutMS=5000, tz_aware=True,
                                        appname="gateway")
        self._entries = self._client[settings.database][COLLECTION]
        self._pending: set[asyncio.Task] = set()

    def record(self, *, actor: str, operation: str | None, trace_id: str | None, status: int) -> None:
        """Write in the background: a slow audit store must not slow the answer, but a failure is logged."""
        entry = {"at": datetime.now(timezone.utc), "actor": actor, "operation": operation or "anonymous",
                 "traceId": trace_id, "status": status}
        task = asyncio.create_task(self._write(entry))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _write(self, entry: dict) -> None:
        try:
            await self._entries.insert_one(entry)
        except Exception as exc:
            log.error("access log write failed: %s", type(exc).__name__)

    async def recent(self, limit: int = 50) -> list[dict]:
        cursor = self._entries.find({}, {"_id": 0}).sort("at", -1).limit(limit)
        return await cursor.to_list(length=limit)

    async def ping(self) -> None:
        await self._client.admin.command("ping")

    async def close(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self._client.close()
