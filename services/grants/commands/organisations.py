"""Registering the organisations that apply for, partner in and fund grants, and changing them (versioned, with
history: who, when, what changed)."""
from __future__ import annotations

from dataclasses import asdict

from services.grants import inputs
from services.grants.commands import Commands
from services.grants.domain import organisations as orgs
from services.grants.domain.errors import UnknownOrganisation
from services.grants.domain.organisations import Organisation
from services.grants.views import organisation_view


class OrganisationCommands(Commands):
    def register(self, *, org_id, name, roles, actor=None, request_id=None) -> dict:
        """A new organisation; a CVR already registered is refused (``organisation_exists``)."""
        org = Organisation(inputs.org_id(org_id, "org_id"), inputs.text(name, "name", limit=300), inputs.roles(roles))
        who = inputs.optional_text(actor, "actor") or None
        arguments = {**organisation_view(org), "actor": who}  # roles sorted: a set's order differs between processes

        def work(session):
            orgs.check_new(org.id, self._current(org.id, session))
            history = [{"version": 1, "actor": who, "at": self.clock().isoformat(),
                        "changes": {"registered": {"name": org.name,
                                                   "roles": sorted(r.value for r in org.roles)}}}]
            self.store.insert_organisation(session, org, history)
            return organisation_view(org, 1, history)
        return self.store.run_once("register_organisation", request_id, arguments, work)

    def change(self, *, org_id, version, actor, name=None, roles=None, request_id=None) -> dict:
        """Change the name and/or roles of organisation ``org_id`` stored at ``version``."""
        oid, who = inputs.org_id(org_id, "org_id"), inputs.actor(actor)
        expected = inputs.version(version)
        new_name = None if name is None else inputs.text(name, "name", limit=300)
        new_roles = None if roles is None else inputs.roles(roles)
        arguments = {"org_id": oid, "version": expected, "actor": who, "name": new_name,
                     "roles": None if new_roles is None else sorted(r.value for r in new_roles)}

        def work(session):
            found = self.store.organisation_record(oid, session)
            if found is None:
                raise UnknownOrganisation(f"no organisation with id {oid!r}", field="org_id", value=oid)
            current, stored_version, history = found
            live = self.store.applications_naming(oid, session)
            changed, entry = orgs.change(current, stored_version, expected_version=expected, name=new_name,
                                         roles=new_roles, live_applications=live, actor=who,
                                         at=self.clock().isoformat())
            history = [*history, asdict(entry)]
            self.store.save_organisation(session, changed, stored_version, history)
            return organisation_view(changed, entry.version, history)
        return self.store.run_once("change_organisation", request_id, arguments, work)

    def _current(self, org_id: str, session):
        found = self.store.organisation_record(org_id, session)
        return None if found is None else found[0]
