"""Registering the organisations that apply for, partner in and fund grants."""
from __future__ import annotations

from services.grants import inputs
from services.grants.commands import Commands
from services.grants.domain.organisations import Organisation
from services.grants.views import organisation_view


class OrganisationCommands(Commands):
    def register(self, *, org_id, name, roles, request_id=None) -> dict:
        org = Organisation(inputs.org_id(org_id, "org_id"), inputs.text(name, "name", limit=300), inputs.roles(roles))
        arguments = organisation_view(org)  # roles sorted: a set's order differs between processes

        def work(session):
            self.store.save_organisation(session, org)
            return organisation_view(org)
        return self.store.run_once("register_organisation", request_id, arguments, work)
