"""Read side of the grants service: pool figures, grants, organisations, attribution and open-data exports.

``organisation``: the caller may see only this organisation's applications, grants and details (an applicant, per
the access policy). Anything of another organisation answers exactly as if it did not exist, so a foreign id tells
the caller nothing."""
from __future__ import annotations

from datetime import date

from services.grants import inputs
from services.grants.domain import csv_export, giving360
from services.grants.domain.applications import GRANT_STATES, State
from services.grants.domain.attribution import attribute
from services.grants.domain.balances import recompute_balances
from services.grants.domain.errors import UnknownOrganisation
from services.grants.domain.events import utc_now
from services.grants.domain.grant_records import grant_records
from services.grants.domain.pools import grant_pools
from services.grants.domain.reference import ActionPlan
from services.grants.storage import GrantsStore
from services.grants.views import application_doc_view, audit_view, grant_view, organisation_view, plain, pool_view

PUBLISHED = (State.AWARDED, State.ACTIVE, State.CLOSED)  # the states whose grants the open-data exports list


class GrantsQueries:
    def __init__(self, store: GrantsStore, plan: ActionPlan, publisher_prefix: str = giving360.DEFAULT_PREFIX, *,
                 organisation: str | None = None):
        self.store, self.plan, self.prefix = store, plan, publisher_prefix
        self.only_organisation = organisation  # None: every organisation

    def _visible(self, applicant_id) -> bool:
        return self.only_organisation is None or applicant_id == self.only_organisation

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

    def ledger_audit(self) -> dict:
        """Stored balances beside those recomputed from the ledger's events, with any difference (a grant
        officer's audit)."""
        def work(session):  # one snapshot: the stored figures and the events they should follow from
            stored, _ = self.store.balances(session)
            return audit_view(stored, recompute_balances(self.store.ledger_events(session)))
        return self.store.transaction(work)

    def applications(self, *, pool_code=None, state=None, applicant_id=None) -> list[dict]:
        pool_code, state = inputs.filter_value(pool_code, "pool_code"), inputs.filter_value(state, "state")
        applicant_id = inputs.filter_value(applicant_id, "applicant_id")
        if self.only_organisation is not None:
            if applicant_id not in (None, self.only_organisation):
                return []  # another organisation's applications: as if it had none
            applicant_id = self.only_organisation
        docs = self.store.application_docs(pool_code=pool_code, state=state, applicant_id=applicant_id)
        return [application_doc_view(d) for d in docs if self._visible(d.get("applicant_id"))]

    def application(self, application_id) -> dict | None:
        docs = self.store.application_docs(application_id=inputs.application_id(application_id))
        found = application_doc_view(docs[0]) if docs else None
        return found if found is not None and self._visible(found["applicant_id"]) else None

    def assessment_notes(self, application_id) -> list[dict]:
        found = self.store.load_application(inputs.application_id(application_id))
        if found is None or not self._visible(found[0].applicant_id):
            return []
        return [{"author": n.author, "at": n.at.isoformat(), "text": n.text} for n in found[0].assessment_notes]

    def grant(self, grant_id) -> dict | None:
        """A grant: an application that was awarded (awarded, active, closed, or withdrawn after its award).
        Anything else, an application never awarded included, answers as no grant."""
        app = self.application(grant_id)
        if app is None:
            return None
        balance = self.store.grant_balance(app["id"])
        if State(app["state"]) not in GRANT_STATES and balance is None:
            return None
        return grant_view(app, balance, [plain(o) for o in self.store.obligations_of(app["id"])])

    def organisation(self, org_id) -> dict:
        found = self.store.organisation_record(inputs.org_id(org_id, "org_id"))
        if found is None or not self._visible(found[0].id):
            raise UnknownOrganisation(f"no organisation with id {org_id!r}", field="org_id")
        org, version, history = found
        apps = self.applications(applicant_id=org.id)
        grants = self.store.grant_balances([a["id"] for a in apps])
        return {**organisation_view(org, version, history), "applications": apps, "grant_count": len(grants),
                "committed_ore": sum(g.committed for g in grants), "disbursed_ore": sum(g.disbursed for g in grants)}

    def organisations(self) -> list[dict]:
        return [organisation_view(o) for o in self.store.organisations() if self._visible(o.id)]

    def attribute(self, grant_id) -> dict:
        found = self.store.load_application(grant_id) if isinstance(grant_id, str) else None
        grants = {found[0].id: found[0]} if found and self._visible(found[0].applicant_id) else {}
        return plain(attribute(grant_id, grants, self.plan))

    def export_360giving(self, issued: date | None = None) -> str:
        return giving360.dumps(giving360.package(self._records(), self.plan, issued=issued or utc_now().date(),
                                                 prefix=self.prefix))

    def export_csv(self) -> str:
        return csv_export.to_csv(giving360.grant(r, self.plan, prefix=self.prefix) for r in self._records())

    def _records(self):
        apps = self.store.applications_in(PUBLISHED)  # no cipher: exports never include notes
        directory = self.store.directory({a.applicant_id for a in apps} | {a.knowledge_partner_id for a in apps})
        return grant_records(apps, self.store.ledger_events(), directory, self.plan)
