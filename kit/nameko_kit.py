"""Nameko glue shared by every service: settings, Mongo storage, tracing, commands and who called them (the Kafka
consumer entrypoint is in kit.consumer).

Kept at the edge so domain code never sees nameko.
"""
from __future__ import annotations

import logging
import math
import sys
import time
from dataclasses import dataclass

from amqp.exceptions import AMQPError
from kombu.exceptions import KombuError
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from kit import tracing
from kit.errors import CommandRejected, translate_errors
from kit.mongo import connect
from kit.outbox import Outbox, ensure_indexes
from kit.policy import Decision, Policy
from kit.policy import policy as access_policy
from kit.principal import HEADER as PRINCIPAL_HEADER
from kit.principal import Principal, PrincipalRejected, seal, unseal
from kit.settings import Settings

log = logging.getLogger("actionplan.service")
SETTINGS_KEY = "ACTIONPLAN_SETTINGS"


def settings_of(container) -> Settings:
    return container.config[SETTINGS_KEY]


# -- request deadlines ---------------------------------------------------------------------------------------------
# A caller that waits at most T seconds for an answer sends its deadline with the request, as wall-clock time (Unix
# epoch seconds, a number) in nameko's context data under DEADLINE_KEY, which nameko sends as the AMQP header
# "nameko.deadline". The gateway also sets the AMQP message ``expiration`` (a TTL of T, measured by the broker's own
# clock), so RabbitMQ drops a request that is still queued when its caller gives up (e.g. while the service is down).
# A request the broker has already delivered is checked by the service when it takes the request off its queue,
# before any worker runs: once its deadline has passed it is refused with CommandRejected("request_expired") and the
# method never runs. So a command abandoned by a caller that timed out is never executed later; the caller answered
# "outcome unknown" and a retry with the same request id runs it (once).
#
# Clock tolerance: the deadline is compared with the service host's clock, so hosts must keep their clocks
# synchronised (NTP). A request is refused only once the service's clock is more than DEADLINE_TOLERANCE_S past the
# deadline, so a service whose clock runs up to that much ahead does not refuse requests its caller still waits for.
# The price is a window of at most DEADLINE_TOLERANCE_S (plus any skew beyond it) after the caller gave up in which
# the request may still start; the caller has already said the outcome is unknown, and a retry with the same request
# id is answered from that run. A request without a deadline (standalone proxies such as the ad_triage CLI's) is never
# refused for its age.
DEADLINE_KEY = "deadline"
DEADLINE_TOLERANCE_S = 1.0
BROKER_ERRORS = (OSError, AMQPError, KombuError)  # what a lost broker connection raises


def expired(deadline: object, now: float | None = None) -> bool:
    """True when ``deadline`` (epoch seconds, as sent by the caller) lies more than the tolerance in the past.

    A missing or malformed deadline never expires: the check must not refuse callers that send none."""
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float, str)):
        return False
    try:
        at = float(deadline)
    except ValueError:
        return False
    if not math.isfinite(at):
        return False
    return (time.time() if now is None else now) > at + DEADLINE_TOLERANCE_S


# -- who is calling -------------------------------------------------------------------------------------------------
# Every RPC request carries its caller's principal, sealed with PRINCIPAL_KEY (kit.principal), in nameko's context
# data under PRINCIPAL_HEADER (the AMQP header "nameko.principal"); the gateway seals its callers', the command-line
# tools seal their service account's. Before a worker runs, the Command entrypoint unseals it (missing, forged,
# edited or expired: refused with code ``unauthenticated``) and asks the policy file whether this principal may call
# "<service>.<method>" (refused: ``forbidden``, or ``unauthenticated`` for the anonymous principal). So a process that
# reaches RabbitMQ directly, without the key, cannot call anything. The method then sees its caller and the scope it
# must apply as ``self.caller`` (the ``Caller`` dependency).
CALLER_KEY = "caller"  # context-data key of the checked CallerInfo (always overwritten: a header cannot set it)


@dataclass(frozen=True)
class CallerInfo:
    """Who called this RPC method and what the policy lets them reach."""
    principal: Principal
    decision: Decision
    operation: str

    @property
    def organisation_scope(self) -> str | None:
        """The only organisation whose records the caller may reach (None: not limited to one organisation)."""
        return self.decision.organisation if self.decision.scope == "own_organisation" else None

    @property
    def region_scope(self) -> str | None:
        """The only region whose records the caller may reach (None: not limited to a region)."""
        return self.decision.region if self.decision.scope == "own_region" else None

    @property
    def subject(self) -> str:
        return self.principal.subject


class Command(Rpc):
    """nameko's RPC entrypoint that, before a worker is spawned, refuses a request past its caller's deadline
    (``request_expired``), without a valid sealed principal (``unauthenticated``) or whose principal the policy does
    not allow to call this method (``forbidden``)."""

    principal_key: bytes | None = None
    policy: Policy | None = None

    def setup(self) -> None:
        super().setup()
        settings = settings_of(self.container)
        self.configure(settings.require("principal_key"), access_policy())
        methods = {e.method_name for e in self.container.entrypoints if isinstance(e, Command)}
        self.policy.check_service(self.container.service_name, methods)  # unknown or missing entries: no start

    def configure(self, principal_key: bytes, policy: Policy) -> None:
        self.principal_key, self.policy = principal_key, policy

    @property
    def operation(self) -> str:
        return f"{self.container.service_name}.{self.method_name}"

    def handle_message(self, body, message):
        headers = message.headers or {}
        deadline = headers.get(f"{self.header_prefix}.{DEADLINE_KEY}")
        if expired(deadline):
            log.warning("refused %s.%s: its caller's deadline passed %.1fs ago", self.container.service_name,
                        self.method_name, time.time() - float(deadline))
            return self._refuse(message, "request_expired", "the request arrived after its caller stopped waiting "
                                "for an answer, so it was not run; retry with the same request id")
        caller = self.check_caller(headers.get(f"{self.header_prefix}.{PRINCIPAL_HEADER}"))
        if isinstance(caller, CommandRejected):
            return self._refuse(message, caller.code, caller.message)
        self._checked[id(message)] = caller
        try:
            super().handle_message(body, message)  # unpack_message_headers hands the caller to the worker
        finally:
            self._checked.pop(id(message), None)

    def check_caller(self, sealed) -> CallerInfo | CommandRejected:
        if self.principal_key is None or self.policy is None:
            return CommandRejected("unauthenticated", "this service cannot check principals (no PRINCIPAL_KEY)")
        try:
            principal = unseal(sealed, self.principal_key)
        except PrincipalRejected as exc:
            log.warning("refused %s: %s", self.operation, exc.message)
            return CommandRejected("unauthenticated", exc.message)
        decision = self.policy.decide(principal, self.operation)
        if not decision.allowed:
            log.warning("refused %s for role %s: %s", self.operation, principal.role, decision.reason)
            if principal.anonymous:
                return CommandRejected("unauthenticated", "this method needs an authenticated caller")
            return CommandRejected("forbidden", "the caller's role may not use this method")
        return CallerInfo(principal, decision, self.operation)

    @property
    def _checked(self) -> dict:
        checked = self.__dict__.get("_checked_callers")
        if checked is None:
            checked = self.__dict__["_checked_callers"] = {}
        return checked

    def unpack_message_headers(self, message):
        data = super().unpack_message_headers(message)
        data.pop(CALLER_KEY, None)  # never taken from a header
        caller = self._checked.get(id(message))
        if caller is not None:
            data[CALLER_KEY] = caller
        return data

    def _refuse(self, message, code: str, text: str) -> None:
        try:
            raise CommandRejected(code, text)
        except CommandRejected:
            self.handle_result(message, None, None, sys.exc_info())  # answers the caller and acks the message

    def handle_result(self, message, worker_ctx, result, exc_info):
        """Answer the caller; when the broker connection is gone (a broker restart), log instead of dying.

        nameko lets a failed reply kill the whole service. The request message was not acknowledged, so the broker
        delivers it again: a command with a request id then answers from its first run, and one whose caller has
        given up is refused as expired."""
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except BROKER_ERRORS as exc:
            log.warning("could not answer %s.%s, the broker connection is lost (%s); the request stays "
                        "unacknowledged and will be delivered again", self.container.service_name, self.method_name,
                        type(exc).__name__)
            return result, exc_info


def command(method):
    """An RPC entrypoint whose domain errors reach the caller as CommandRejected (expected, so not logged as
    failures of the service); a request past its caller's deadline is refused with code ``request_expired``, one
    without an allowed principal with ``unauthenticated`` or ``forbidden``, without running the method."""
    return Command.decorator(expected_exceptions=CommandRejected)(translate_errors(method))


class HealthCheck:
    """Mixed into every service: the gateway's readiness probe calls it over RPC (through the same entrypoint as
    commands, so a reply lost to a broker restart is redelivered instead of stopping the service)."""

    @command
    def health(self) -> dict:
        self.store.ping()
        return {"service": self.name, "status": "ok"}


def checked(caller: "CallerInfo | None") -> "CallerInfo":
    """The checked caller of the RPC request a worker serves; a worker without one (a Kafka consumer or a timer
    reaching code meant for callers) is refused."""
    if caller is None:
        raise CommandRejected("unauthenticated", "no checked caller")
    return caller


class Loaded(DependencyProvider):
    """A value each container builds once from its settings as it starts (a rule set, a policy file, an adapter to
    another service) and hands to every worker; a bad file stops the service at start, not at the first request."""

    def __init__(self, build) -> None:
        self.build = build

    def setup(self) -> None:
        self.value = self.build(settings_of(self.container))

    def get_dependency(self, worker_ctx):
        return self.value


class Caller(DependencyProvider):
    """``self.caller``: the checked CallerInfo of the RPC request this worker serves (principal, the policy's
    decision and scope); None in workers that no RPC request started (Kafka consumers, timers)."""

    def get_dependency(self, worker_ctx):
        found = worker_ctx.data.get(CALLER_KEY)
        return found if isinstance(found, CallerInfo) else None


class Store(DependencyProvider):
    """Gives each worker the service's storage adapter: ``store_class(client, db, outbox, settings)``.

    One MongoClient per container; PyMongo pools connections and is safe across green threads.
    """

    def __init__(self, store_class) -> None:
        self.store_class = store_class

    def setup(self) -> None:
        settings = settings_of(self.container)
        self.client = connect(settings)
        self.db = self.client[settings.database]
        ensure_indexes(self.db)
        self.store = self.store_class(self.client, self.db, Outbox(self.db, settings), settings)
        if hasattr(self.store, "setup"):
            self.store.setup()

    def stop(self) -> None:
        self.client.close()

    def get_dependency(self, worker_ctx):
        return self.store


class Tracing(DependencyProvider):
    """A span per worker, continuing the caller's trace from the AMQP headers or the Kafka record."""

    def setup(self) -> None:
        self._spans = {}

    def worker_setup(self, worker_ctx) -> None:
        entry = worker_ctx.entrypoint
        kind = SpanKind.CONSUMER if getattr(entry, "is_kafka_consumer", False) else SpanKind.SERVER
        name = f"{worker_ctx.service_name}.{entry.method_name}"
        token = otel_context.attach(tracing.context_from(worker_ctx.data))
        span = tracing.tracer().start_span(name, kind=kind, attributes={"rpc.system": "nameko",
                                                                          "rpc.method": entry.method_name})
        span_token = otel_context.attach(trace.set_span_in_context(span))
        self._spans[worker_ctx] = (span, token, span_token)

    def worker_result(self, worker_ctx, result=None, exc_info=None) -> None:
        entry = self._spans.get(worker_ctx)
        if entry and exc_info:
            entry[0].set_status(Status(StatusCode.ERROR, type(exc_info[1]).__name__))

    def worker_teardown(self, worker_ctx) -> None:
        span, token, span_token = self._spans.pop(worker_ctx, (None, None, None))
        if span is not None:
            span.end()
            otel_context.detach(span_token)
            otel_context.detach(token)


def service_account(settings: Settings, role: str, subject: str, lifetime_s: float = 3600.0,
                    organisation: str | None = None) -> dict:
    """Context data for a standalone ``ClusterRpcProxy(config, context_data=...)`` of an operators' tool: the tool's
    service-account principal sealed with PRINCIPAL_KEY from its environment, valid for ``lifetime_s``. Only a host
    that holds PRINCIPAL_KEY can act so; the policy file decides what the role may call."""
    key = settings.require("principal_key")
    return {PRINCIPAL_HEADER: seal(Principal(subject, role, organisation), key, time.time() + lifetime_s)}
