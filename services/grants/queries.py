"""Read side of the grants service: pool figures, grants, organisations, attribution and open-data exports."""
from __future__ import annotations

from datetime import date

from services.grants import inputs
from services.grants.codec import application as to_application
from services.grants.domain import csv_export, giving360
from services.grants.domain.attribution import attribute
from services.grants.domain.balances import recompute_balances
from services.grants.domain.errors import UnknownOrganisation
from services.grants.domain.events import utc_now
from services.grants.domain.grant_records import grant_records
from services.grants.domain.pools import grant_pools
from services.grants.domain.reference import ActionPlan
from services.grants.storage import GrantsStore
from services.grants.views import application_doc_view, plain, pool_view


class GrantsQueries:
    def __init__(self, store: GrantsStore, plan: ActionPlan, publisher_prefix: str = giving360.DEFAULT_PREFIX):
        self.store, self.plan, self.prefix = store, plan, publisher_prefix

    def pools(self) -> list[dict]:
        balances, _ = self.store.balances()
        pools = grant_pools(self.plan)
        return [{**pool_view(balances.pools[code], balances), "title": pool.title,
                 "initiative": pool.initiative_number, "period": plain(pool.period)}
                for code, pool in pools.items() if code in balances.pools]

    def recomputed_pools(self) -> list[dict]:
        """The same figures rebuilt from the ledger's events alone: an audit that stored balances are right."""
        balances = recompute_balances(self.store.ledger_events())
        return [pool_view(p, balances) for p in balances.pools.values()]

    def applications(self, *, pool_code=None, state=None, applicant_id=None) -> list[dict]:
        query = {k: v for k, v in (("pool_code", pool_code), ("state", state), ("applicant_id", applicant_id))
                 if v is not None}
        return [application_doc_view(d) for d in self.store.application_docs(query)]

    def application(self, application_id) -> dict | None:
        docs = self.store.application_docs({"_id": inputs.text(application_id, "application_id", limit=64)})
        return application_doc_view(docs[0]) if docs else None

    def assessment_notes(self, application_id) -> list[dict]:
        found = self.store.load_application(inputs.text(application_id, "application_id", limit=64))
        if found is None:
            return []
        return [{"author": n.author, "at": n.at.isoformat(), "text": n.text} for n in found[0].assessment_notes]

    def grant(self, grant_id) -> dict | None:
        app = self.application(grant_id)
        if app is None:
            return None
        doc = self.store.db.grant_balances.find_one({"_id": app["id"]})
        balance = None if doc is None else {"committed_ore": doc["committed"], "disbursed_ore": doc["disbursed"],
                                            "undisbursed_ore": doc["committed"] - doc["disbursed"],
                                            "withdrawn": doc["withdrawn"]}
        obligations = [plain(o) for o in self.store.obligations({"grant_id": app["id"]})]
        return {"application": app, "balance": balance, "obligations": obligations}

    def organisation(self, org_id) -> dict:
        org = self.store.organisation(inputs.org_id(org_id, "org_id"))
        if org is None:
            raise UnknownOrganisation(f"no organisation with id {org_id!r}", field="org_id")
        apps = self.applications(applicant_id=org.id)
        grants = [self.store.db.grant_balances.find_one({"_id": a["id"]}) for a in apps]
        grants = [g for g in grants if g]
        return {"id": org.id, "name": org.name, "roles": sorted(r.value for r in org.roles),
                "applications": apps, "grant_count": len(grants),
                "committed_ore": sum(g["committed"] for g in grants),
                "disbursed_ore": sum(g["disbursed"] for g in grants)}

    def organisations(self) -> list[dict]:
        return [{"id": o.id, "name": o.name, "roles": sorted(r.value for r in o.roles)}
                for o in self.store.organisations()]

    def attribute(self, grant_id) -> dict:
        found = self.store.load_application(grant_id) if isinstance(grant_id, str) else None
        grants = {found[0].id: found[0]} if found else {}
        return plain(attribute(grant_id, grants, self.plan))

    def export_360giving(self, issued: date | None = None) -> str:
        records = self._records()
        return giving360.dumps(giving360.package(records, self.plan, issued=issued or utc_now().date(),
                                                 prefix=self.prefix))

    def export_csv(self) -> str:
        records = self._records()
        return csv_export.to_csv(giving360.grant(r, self.plan, prefix=self.prefix) for r in records)

    def _records(self):
        docs = self.store.db.applications.find({"state": {"$in": ["awarded", "active", "closed"]}})
        apps = [to_application(d) for d in docs]  # no cipher: exports never include notes
        directory = self.store.directory({a.applicant_id for a in apps} | {a.knowledge_partner_id for a in apps})
        return grant_records(apps, self.store.ledger_events(), directory, self.plan)
