"""Digital outreach tasks from ad triage's flags: one task per cluster, rebuilt from the cluster's ads each time one
of them changes, so a flag delivered twice, or a priority change arriving before its flag, gives the same task."""
from __future__ import annotations

from services.outreach import inputs, views
from services.outreach.commands.concern import add_signal
from services.outreach.commands.contacts import visible_task
from services.outreach.commands.scope import Context
from services.outreach.domain.geography import Geography
from services.outreach.domain.tasks import PRIORITY_RANK, check_close, cluster_priority, task_id_for
from services.outreach.storage import TASKS

CONSUMER = "outreach.tasks"
MAX_AD_KEYS = 50


def _version_key(version: str | None) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".")) if version else ()


class TaskCommands:
    def __init__(self, ctx: Context) -> None:
        self.ctx, self.store = ctx, ctx.store

    def on_ad(self, event: dict) -> bool:
        """An ad was flagged or its priority changed: its cluster's task follows (and the cluster it left)."""
        data = event["data"]

        def effect(session):
            link = {"_id": data["adKey"], "cluster_id": data["clusterId"], "priority": data["priority"],
                    "score": float(data["score"]), "version": data["rulesetVersion"], "city": data.get("city")}
            before = self.store.put_ad_link(session, link)
            for cluster in dict.fromkeys([data["clusterId"], *([before["cluster_id"]] if before else [])]):
                self._rebuild(session, cluster, merged_into=data["clusterId"])
        return self.store.handle_once(CONSUMER, event, effect)

    def _rebuild(self, session, cluster_id: str, merged_into: str) -> None:
        task_id, now = task_id_for(cluster_id), self.ctx.now().isoformat()
        ads = self.store.ads_of(session, cluster_id)
        task = self.store.get(TASKS, task_id, session)
        if not ads:
            if task is not None and task["state"] in ("open", "in_progress"):
                self.store.write_task(session, task, {**task, "state": "merged", "merged_into": merged_into,
                                                      "ad_count": 0, "ad_keys": [], "updated_at": now})
            return
        priority = cluster_priority({a["_id"]: a["priority"] for a in ads})
        cities = sorted({a["city"] for a in ads if a.get("city")})
        geography = Geography.load()
        regions = sorted({m.region for m in (geography.place_of(c) for c in cities) if m is not None})
        fields = {"cluster_id": cluster_id, "priority": priority, "priority_rank": PRIORITY_RANK[priority],
                  "score": max(a["score"] for a in ads),
                  "ruleset_version": max((a["version"] for a in ads), key=_version_key),
                  "ad_keys": sorted(a["_id"] for a in ads)[:MAX_AD_KEYS], "ad_count": len(ads), "cities": cities,
                  "regions": regions, "updated_at": now}
        if task is None:
            if priority == "none":
                return  # never flagged: no task
            self.store.write_task(session, None, {"_id": task_id, "state": "open", "opened_at": now,
                                                  "attempts": [], "closed_reason": None, "merged_into": None,
                                                  **fields})
        else:
            if task["state"] == "merged":
                fields.update(state="open", merged_into=None)
            self.store.write_task(session, task, {**task, **fields})
            if task["priority"] != priority:
                self._relink(session, cluster_id, priority)

    def _relink(self, session, cluster_id: str, priority: str) -> None:
        """Venues linked to the cluster carry its priority as a concern signal: a change rescores them."""
        today = self.ctx.today()
        for venue in self.store.venues_linked_to(session, cluster_id):
            signal = next((s for s in self.store.signals_of(session, venue["_id"])
                           if s["kind"] == "cluster_linked" and s["source_id"] == cluster_id), None)
            on = inputs.day(signal["on"], "on") if signal else today
            add_signal(self.store, session, venue, "cluster_linked", cluster_id, on, priority, self.ctx.rules, today)

    def close(self, *, task_id, reason, actor, request_id=None) -> dict:
        who = inputs.actor(actor)
        task = visible_task(self.ctx, task_id)
        checked = check_close(task["state"], reason)

        def work(session):
            current = visible_task(self.ctx, task["_id"], session)
            check_close(current["state"], checked)
            self.store.write_task(session, current, {**current, "state": "closed", "closed_reason": checked,
                                                     "closed_by": who, "updated_at": self.ctx.now().isoformat()})
            return views.task(self.store.get(TASKS, current["_id"], session))
        return self.store.run_once("close_task", request_id, dict(task_id=task["_id"], reason=checked, actor=who),
                                   work)
