"""The access policy (policy/access.toml): who may use which operation, with which scope. Deny by default.

Read by the gateway (gateway/authz.py checks every GraphQL root field) and by every service (kit/nameko_kit.py's
``Command`` entrypoint checks every RPC method before a worker runs), so a caller is checked twice and a process
that reaches RabbitMQ directly is checked like the gateway's callers. No framework: tomllib and dataclasses.

    decision = policy().decide(principal, "Query.applications")
    decision.allowed, decision.scope        # True, "own_organisation" for an applicant
    decision.organisation, decision.region  # what the service must restrict the answer to (None: no limit)

A malformed file, an unknown role, organisation or scope, or an operation the caller does not have
(``check_covers``) raises ``PolicyError`` when the process starts.
"""
from __future__ import annotations

import functools
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "policy" / "access.toml"
PATH_ENV = "ACCESS_POLICY_FILE"  # another file for a deployment (the default is the repository's)

ANY, OWN_ORGANISATION, OWN_REGION = "any", "own_organisation", "own_region"
SCOPES = (ANY, OWN_ORGANISATION, OWN_REGION)
KINDS = ("person", "service", "anonymous")
GRAPHQL_ROOTS = ("Query", "Mutation", "Subscription")
_GRAPHQL_OP = re.compile(r"^(Query|Mutation|Subscription)\.[A-Za-z_][A-Za-z0-9_]*$")
_RPC_OP = re.compile(r"^[a-z][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
_ID = re.compile(r"^[a-z][a-z0-9_-]*$")


class PolicyError(ValueError):
    """The policy file is malformed, names something unknown, or does not cover an operation that exists."""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    scope: str | None = None  # any, own_organisation or own_region when allowed
    organisation: str | None = None  # own_organisation: the only organisation whose records the caller reaches
    region: str | None = None  # own_region: the only region whose records the caller reaches
    reason: str = ""  # for logs and tests, never for the caller: why it was refused

    @property
    def unrestricted(self) -> bool:
        return self.allowed and self.scope == ANY


DENIED = Decision(False, reason="not allowed")


@dataclass(frozen=True)
class Role:
    id: str
    kind: str
    description: str
    organisations: frozenset[str] | None  # None: any organisation may hold the role


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    reach: str | None  # "nationwide", "region" or None
    region: str | None


@dataclass(frozen=True)
class Operation:
    name: str
    public: bool
    allow: Mapping[str, str]  # role -> scope
    calls: tuple[str, ...] = ()

    @property
    def graphql(self) -> bool:
        return bool(_GRAPHQL_OP.match(self.name))


@dataclass(frozen=True)
class Policy:
    roles: Mapping[str, Role]
    organisations: Mapping[str, Organisation]
    operations: Mapping[str, Operation]
    source: str = field(default="", compare=False)

    # -- deciding --------------------------------------------------------------------------------------------------
    def decide(self, principal, operation: str) -> Decision:
        """May ``principal`` (kit.principal.Principal, or anything with role/organisation/region) use
        ``operation``, and with which scope? Anything not named in the policy is refused."""
        op = self.operations.get(operation)
        if op is None:
            return Decision(False, reason=f"no policy entry for {operation}")
        role = self.roles.get(getattr(principal, "role", None))
        if role is None:
            return Decision(False, reason="unknown role")
        org = getattr(principal, "organisation", None)
        if role.organisations is not None and org not in role.organisations:
            return Decision(False, reason=f"organisation may not hold the role {role.id}")
        if op.public:
            return Decision(True, ANY)
        scope = op.allow.get(role.id)
        if scope is None:
            return Decision(False, reason=f"{role.id} may not use {operation}")
        if scope == ANY:
            return Decision(True, ANY)
        if scope == OWN_ORGANISATION:
            if not org:
                return Decision(False, reason="own_organisation scope without an organisation")
            return Decision(True, OWN_ORGANISATION, organisation=org)
        return self._regional(principal, org)

    def _regional(self, principal, org: str | None) -> Decision:
        known = self.organisations.get(org) if org else None
        claimed = getattr(principal, "region", None)
        if known is not None and known.reach == "nationwide":
            return Decision(True, ANY)
        if known is not None and known.reach == "region":
            if claimed is not None and claimed != known.region:
                return Decision(False, reason="region claim differs from the organisation's region")
            return Decision(True, OWN_REGION, organisation=org, region=known.region)
        if claimed:
            return Decision(True, OWN_REGION, organisation=org, region=claimed)
        return Decision(False, reason="own_region scope without a region")

    def allowed(self, principal, operation: str) -> bool:
        return self.decide(principal, operation).allowed

    # -- start-up checks -------------------------------------------------------------------------------------------
    def require(self, *operations: str) -> None:
        missing = [op for op in operations if op not in self.operations]
        if missing:
            raise PolicyError(f"{self.source}: no policy entry for {', '.join(sorted(missing))} (deny by default: "
                              "add one naming who may use it)")

    def check_covers(self, prefix: str, existing: Iterable[str]) -> None:
        """The operations under ``prefix`` ("grants.", "Query.") are exactly ``existing``: every one has an entry
        and the policy names none that does not exist."""
        existing = {f"{prefix}{name}" for name in existing}
        named = {name for name in self.operations if name.startswith(prefix)}
        problems = []
        if existing - named:
            problems.append("no policy entry for " + ", ".join(sorted(existing - named)))
        if named - existing:
            problems.append("policy names unknown operations " + ", ".join(sorted(named - existing)))
        if problems:
            raise PolicyError(f"{self.source}: " + "; ".join(problems))

    def check_schema(self, schema) -> None:
        """Every root field of a graphql-core schema has an entry, and every GraphQL entry is a root field."""
        for root in GRAPHQL_ROOTS:
            kind = getattr(schema, f"{root.lower()}_type", None)
            self.check_covers(f"{root}.", kind.fields.keys() if kind is not None else ())

    def check_service(self, service: str, methods: Iterable[str]) -> None:
        self.check_covers(f"{service}.", methods)

    def who_may(self, operation: str) -> dict[str, str]:
        """Role -> scope for ``operation`` (every role for a public one): the policy table."""
        op = self.operations[operation]
        if op.public:
            return {r: ANY for r in self.roles}
        return dict(op.allow)


# -- loading -------------------------------------------------------------------------------------------------------
def parse(text: str, source: str = "<policy>") -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {exc}") from None
    problems: list[str] = []
    _keys(data, {"version", "organisations", "roles", "operations"}, "the file", problems)
    if data.get("version") != 1:
        problems.append("version must be 1")
    organisations = _organisations(data.get("organisations", {}), problems)
    roles = _roles(data.get("roles", {}), organisations, problems)
    operations = _operations(data.get("operations", {}), roles, problems)
    _check_calls(operations, problems)
    if problems:
        raise PolicyError(f"{source}: " + "; ".join(problems))
    return Policy(roles, organisations, operations, source)


def load(path: str | Path | None = None) -> Policy:
    path = Path(path or os.environ.get(PATH_ENV) or DEFAULT_PATH)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read the access policy {path}: {exc.strerror}") from None
    return parse(text, str(path))


@functools.lru_cache(maxsize=4)
def _cached(path: str) -> Policy:
    return load(path)


def policy() -> Policy:
    """The process's policy (the file named by ACCESS_POLICY_FILE, else policy/access.toml), read once."""
    return _cached(str(os.environ.get(PATH_ENV) or DEFAULT_PATH))


def decide(principal, operation: str) -> Decision:
    return policy().decide(principal, operation)


def _keys(table: object, allowed: set[str], where: str, problems: list[str]) -> bool:
    if not isinstance(table, dict):
        problems.append(f"{where} must be a table")
        return False
    unknown = set(table) - allowed
    if unknown:
        problems.append(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    return True


def _organisations(table: object, problems: list[str]) -> dict[str, Organisation]:
    found = {}
    if not _keys(table, set(table) if isinstance(table, dict) else set(), "[organisations]", problems):
        return found
    for org_id, spec in table.items():
        where = f"organisation {org_id!r}"
        if not _keys(spec, {"name", "reach", "region"}, where, problems):
            continue
        reach, region = spec.get("reach"), spec.get("region")
        if reach not in (None, "nationwide", "region"):
            problems.append(f"{where}: reach must be nationwide or region")
        if (reach == "region") != isinstance(region, str) or (region is not None and not region):
            problems.append(f"{where}: a region is given exactly when reach is region")
        if not isinstance(spec.get("name"), str):
            problems.append(f"{where}: name is required")
        found[org_id] = Organisation(org_id, str(spec.get("name")), reach, region)
    return found


def _roles(table: object, organisations: Mapping[str, Organisation], problems: list[str]) -> dict[str, Role]:
    found = {}
    if not _keys(table, set(table) if isinstance(table, dict) else set(), "[roles]", problems):
        return found
    for role_id, spec in table.items():
        where = f"role {role_id!r}"
        if not _ID.match(role_id):
            problems.append(f"{where}: ids are lower-case letters, digits, _ and -")
        if not _keys(spec, {"kind", "description", "organisations"}, where, problems):
            continue
        if spec.get("kind") not in KINDS:
            problems.append(f"{where}: kind must be one of {', '.join(KINDS)}")
        if not isinstance(spec.get("description"), str) or not spec["description"].strip():
            problems.append(f"{where}: a description is required")
        orgs = spec.get("organisations")
        if orgs is not None:
            if not isinstance(orgs, list) or not orgs or not all(isinstance(o, str) for o in orgs):
                problems.append(f"{where}: organisations must be a non-empty list of organisation ids")
                orgs = []
            unknown = [o for o in orgs if o not in organisations]
            if unknown:
                problems.append(f"{where}: unknown organisations {', '.join(unknown)}")
        found[role_id] = Role(role_id, spec.get("kind"), spec.get("description"),
                              None if orgs is None else frozenset(orgs))
    if "anonymous" not in found or found["anonymous"].kind != "anonymous":
        problems.append("the role 'anonymous' (kind anonymous) must be defined: it is who calls without a token")
    return found


def _operations(table: object, roles: Mapping[str, Role], problems: list[str]) -> dict[str, Operation]:
    found = {}
    if not _keys(table, set(table) if isinstance(table, dict) else set(), "[operations]", problems):
        return found
    for name, spec in table.items():
        where = f"operation {name!r}"
        if not (_GRAPHQL_OP.match(name) or _RPC_OP.match(name)):
            problems.append(f"{where}: expected Query.<field>, Mutation.<field>, Subscription.<field> or "
                            "<service>.<method>")
        if not _keys(spec, {"public", "allow", "calls"}, where, problems):
            continue
        public, allow, calls = spec.get("public", False), spec.get("allow"), spec.get("calls", [])
        if public not in (True, False):
            problems.append(f"{where}: public must be true or false")
        if public and allow is not None:
            problems.append(f"{where}: public operations name no roles")
        if not public and allow is None:
            problems.append(f"{where}: needs allow = {{ role = scope }} or public = true")
        allow = allow or {}
        if not isinstance(allow, dict):
            problems.append(f"{where}: allow must be a table of role = scope")
            allow = {}
        for role, scope in allow.items():
            if role not in roles:
                problems.append(f"{where}: unknown role {role!r}")
            if scope not in SCOPES:
                problems.append(f"{where}: unknown scope {scope!r} for {role} (one of {', '.join(SCOPES)})")
        if not isinstance(calls, list) or not all(isinstance(c, str) for c in calls):
            problems.append(f"{where}: calls must be a list of <service>.<method>")
            calls = []
        if calls and not _GRAPHQL_OP.match(name):
            problems.append(f"{where}: only GraphQL fields list the RPC methods they call")
        found[name] = Operation(name, bool(public), dict(allow), tuple(calls))
    return found


def _check_calls(operations: Mapping[str, Operation], problems: list[str]) -> None:
    """A GraphQL field must not let in a caller that the RPC methods behind it refuse or scope differently."""
    for op in operations.values():
        for called in op.calls:
            target = operations.get(called)
            if target is None or not _RPC_OP.match(called):
                problems.append(f"operation {op.name!r} calls {called!r}, which has no RPC policy entry")
                continue
            if op.public:
                if not target.public:
                    problems.append(f"operation {op.name!r} is public but {called!r} is not")
                continue
            for role, scope in op.allow.items():
                theirs = "any" if target.public else target.allow.get(role)
                if theirs != scope:
                    problems.append(f"operation {op.name!r} allows {role} ({scope}) but {called!r} "
                                    f"{'does not' if theirs is None else 'scopes it ' + theirs}")
