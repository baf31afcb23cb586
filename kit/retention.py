"""Mixed into every service: delivery records (sent outbox rows, inbox rows, request records) are deleted once
they are older than their retention, hourly, by whichever instance's timer fires."""
from __future__ import annotations

import logging

from nameko.timer import timer

log = logging.getLogger("actionplan.retention")


class RecordRetention:
    @timer(interval=3600)
    def purge_expired_records(self) -> None:
        deleted = self.store.purge_expired()
        if any(deleted.values()):
            log.info("retention: deleted %s", ", ".join(f"{n} {name} rows" for name, n in deleted.items()))
