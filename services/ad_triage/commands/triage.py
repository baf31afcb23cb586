"""Triage: outreach staff move queue items (assign, contact, close...). The domain decides whether a move is allowed;
the move is stored only if nobody moved the item since it was read (its queue version), once per request id."""
from __future__ import annotations

from kit.storage import now
from services.ad_triage import inputs
from services.ad_triage.codec import queue_doc, queue_item
from services.ad_triage.domain.errors import ConcurrentChange, UnknownAd
from services.ad_triage.domain.stored import key_tuple
from services.ad_triage.domain.triage import STATES, move
from services.ad_triage.storage import AdTriageStore
from services.ad_triage.views import queue_view


class Triage:
    def __init__(self, store: AdTriageStore) -> None:
        self.store = store

    def move_item(self, ad_key, to_state, reason, actor, assignee, request_id) -> dict:
        arguments = {"ad_key": inputs.ad_key(ad_key), "to_state": inputs.choice(to_state, "to_state", STATES),
                     "reason": inputs.text(reason, "reason", limit=1000), "actor": inputs.actor(actor),
                     "assignee": None if assignee is None else inputs.actor(assignee, "assignee")}

        def work(session):
            return self._move(session, **arguments)
        return self.store.run_once("move_item", request_id, arguments, work)

    def _move(self, session, ad_key, to_state, reason, actor, assignee) -> dict:
        stored = self.store.queue_of(ad_key, session)
        if stored is None:
            raise UnknownAd("no ad with this key")
        version = stored.get("version", 0)
        item = move(queue_item(key_tuple(ad_key), stored), to_state, actor, now(), reason, assignee)
        queue = queue_doc(item, version + 1)
        if not self.store.set_queue(session, ad_key, version, queue):
            raise ConcurrentChange(f"ad {ad_key!r} was moved by someone else; reload and try again")
        return queue_view(queue)
