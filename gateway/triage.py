"""GraphQL for the ad triage service (initiative 1): composed into the gateway's Query and Mutation.

Outreach staff see masked text, contact facts (kind, obscured or not, country) and pseudonymous cluster ids; no
field can return a contact value, and no field returns a contact's pseudonym (a cluster's contact spread is counts).
Mutations take the caller's id from the request, never from arguments.

Submitting ads is not an oracle: ``submitAd`` and ``importAds`` answer with the submitted ads' own keys, statuses
and reasons only (no cluster, cluster size, score, flag or other ad), and each principal's submissions are
rate-limited (a token bucket per principal, AD_SUBMIT_BURST ads refilled at AD_SUBMIT_PER_SECOND; error code
``rate_limited``), so nobody can probe "is this number known?" by submitting.
"""
from __future__ import annotations

import base64
import os
import threading
import time
from collections import OrderedDict

import graphene
from graphql import GraphQLError

from gateway.errors import call
from gateway.forward import forward, plain, request_id_argument
from kit.settings import SPECS


class TriageState(graphene.Enum):
    NEW = "new"
    ASSIGNED = "assigned"
    CONTACTED = "contacted"
    UNREACHABLE = "unreachable"
    CLOSED = "closed"


class AdPriority(graphene.Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"


class AdFileFormat(graphene.Enum):
    JSONL = "jsonl"
    CSV = "csv"


class QuarantineStatus(graphene.Enum):
    OPEN = "open"
    RESUBMITTED = "resubmitted"


class TriageMove(graphene.ObjectType):
    from_state = graphene.String(required=True)
    to_state = graphene.String(required=True)
    actor = graphene.String(required=True)
    at = graphene.String(required=True)
    reason = graphene.String(required=True)


class TriageQueueState(graphene.ObjectType):
    state = graphene.String(required=True)
    assignee = graphene.String()
    history = graphene.List(graphene.NonNull(TriageMove), required=True, description="Who moved it, when, why.")
    version = graphene.Int(required=True, description="pass as expectedVersion: a move made meanwhile is refused")


class IndicatorEvidence(graphene.ObjectType):
    kind = graphene.String(required=True, description="pattern (a span of masked text) or feature (a value)")
    field = graphene.String(description="title or text: the masked field the span points into")
    start = graphene.Int()
    end = graphene.Int()
    snippet = graphene.String()
    feature = graphene.String()
    value = graphene.Float()


class FiredIndicator(graphene.ObjectType):
    indicator_id = graphene.String(required=True)
    weight = graphene.Float(required=True)
    rationale = graphene.String(required=True)
    evidence = graphene.Field(IndicatorEvidence, required=True)


class AdScore(graphene.ObjectType):
    value = graphene.Float(required=True)
    priority = graphene.String(required=True)
    ruleset_version = graphene.String(required=True)
    fired = graphene.List(graphene.NonNull(FiredIndicator), required=True)


class AdContactFacts(graphene.ObjectType):
    kind = graphene.String(required=True)
    obfuscated = graphene.Boolean(required=True)
    valid = graphene.Boolean(required=True)
    region = graphene.String(description="Country of a phone number (ISO 3166), never the number")
    source = graphene.String(required=True, description="field (the ad's contacts) or text (found in its text)")


class AdSighting(graphene.ObjectType):
    via = graphene.String(required=True)
    at = graphene.String(required=True)
    first_seen = graphene.String(required=True)
    last_seen = graphene.String(required=True)


class ClusterAd(graphene.ObjectType):
    """An ad of a cluster, with its own score (its text and own features, without the cluster's network signals)."""
    ad_key = graphene.ID(required=True)
    platform = graphene.String(required=True)
    title = graphene.String(required=True)
    city = graphene.String()
    score = graphene.Float()
    priority = graphene.String()
    ruleset_version = graphene.String()
    last_seen = graphene.String(required=True)
    cluster_id = graphene.String()


class QueueEvidence(graphene.ObjectType):
    indicator_id = graphene.String(required=True)
    weight = graphene.Float(required=True)
    evidence = graphene.Field(IndicatorEvidence, required=True)


class ClusterFacts:
    """The facts a cluster keeps on itself, shown alike by a queue item and a cluster (graphene reads fields from
    every base class)."""
    cluster_id = graphene.ID(required=True)
    ad_count = graphene.Int(required=True)
    cities = graphene.List(graphene.NonNull(graphene.String), required=True)
    platforms = graphene.List(graphene.NonNull(graphene.String), required=True)
    first_seen = graphene.String(required=True)
    last_seen = graphene.String(required=True)
    max_contact_spread = graphene.Int(required=True, description="the most cities any one contact appears in")


class TriageItem(ClusterFacts, graphene.ObjectType):
    """One queue item: a cluster (one advertiser or network) with its best evidence; outreach works a cluster."""
    score = graphene.Float(required=True, description="the best ad's own score plus the cluster's network signals")
    priority = graphene.String(required=True)
    ruleset_version = graphene.String(required=True)
    best_ad_key = graphene.ID(description="the ad whose own score is highest: open it for its evidence spans")
    evidence = graphene.List(graphene.NonNull(QueueEvidence), required=True,
                             description="the indicators that fired for the cluster's score")
    state = graphene.String(required=True)
    assignee = graphene.String()


class AdCluster(ClusterFacts, graphene.ObjectType):
    contact_count = graphene.Int(required=True, description="how many distinct contacts the cluster's ads show")
    score = graphene.Field(AdScore, description="The cluster's score: best ad's own score plus network signals")
    best_ad_key = graphene.ID()
    flagged_versions = graphene.List(graphene.NonNull(graphene.String), required=True)
    queue = graphene.Field(TriageQueueState, required=True)
    ads = graphene.List(graphene.NonNull(ClusterAd), required=True, description="its ads, best first (at most 50)")


class TriageAd(graphene.ObjectType):
    ad_key = graphene.ID(required=True)
    platform = graphene.String(required=True)
    ad_id = graphene.String(required=True)
    url = graphene.String(required=True)
    title = graphene.String(required=True, description="contact details masked (one block per character)")
    text = graphene.String(required=True, description="contact details masked; evidence spans point into it")
    language = graphene.String(required=True)
    location = graphene.String(required=True)
    city = graphene.String()
    first_seen = graphene.String(required=True)
    last_seen = graphene.String(required=True)
    price_amount = graphene.Int()
    price_currency = graphene.String()
    image_hash_count = graphene.Int(required=True)
    contacts = graphene.List(graphene.NonNull(AdContactFacts), required=True)
    sightings = graphene.List(graphene.NonNull(AdSighting), required=True)
    cluster_id = graphene.String()
    cluster_size = graphene.Int()
    score = graphene.Field(AdScore, description="The ad's own score: fired indicators, evidence, rule-set version")
    flagged_versions = graphene.List(graphene.NonNull(graphene.String), required=True,
                                     description="versions its cluster was flagged under")
    queue = graphene.Field(TriageQueueState, description="its cluster's queue item")
    cluster = graphene.Field(AdCluster)

    @staticmethod
    async def resolve_cluster(parent, info):
        if not parent.get("cluster_id"):
            return None
        return await call(info, "ad_triage", "cluster", cluster_id=parent["cluster_id"])


class TriagePageInfo(graphene.ObjectType):
    end_cursor = graphene.String()
    has_next_page = graphene.Boolean(required=True)


class TriageQueuePage(graphene.ObjectType):
    total_count = graphene.Int(required=True)
    items = graphene.List(graphene.NonNull(TriageItem), required=True)
    page_info = graphene.Field(TriagePageInfo, required=True)


class QuarantinedAd(graphene.ObjectType):
    quarantine_id = graphene.ID(required=True)
    status = graphene.String(required=True)
    via = graphene.String(required=True)
    line = graphene.Int()
    format = graphene.String(required=True)
    reasons = graphene.List(graphene.NonNull(graphene.String), required=True)
    platform = graphene.String()
    ad_id = graphene.String()
    received_at = graphene.String(required=True)
    attempts = graphene.Int(required=True)
    ad_key = graphene.String(description="The stored ad once a resubmission was accepted")


class QuarantinePage(graphene.ObjectType):
    total_count = graphene.Int(required=True)
    items = graphene.List(graphene.NonNull(QuarantinedAd), required=True)


class AdRecordResult(graphene.ObjectType):
    line = graphene.Int()
    status = graphene.String(required=True, description="accepted, updated, unchanged or quarantined")
    ad_key = graphene.String()
    quarantine_id = graphene.String()
    reasons = graphene.List(graphene.NonNull(graphene.String))


class AdImportReport(graphene.ObjectType):
    """What happened to the submitted lines; nothing about the clusters they joined or the ads they met."""
    accepted = graphene.Int(required=True)
    updated = graphene.Int(required=True)
    unchanged = graphene.Int(required=True)
    quarantined = graphene.Int(required=True)
    results = graphene.List(graphene.NonNull(AdRecordResult), required=True)


class RescoreReport(graphene.ObjectType):
    version = graphene.String(required=True)
    rescored = graphene.Int(required=True, description="ads scored again so far")
    changed = graphene.Int(required=True, description="priority_changed events emitted")
    flagged = graphene.Int(required=True, description="flagged events emitted")
    done = graphene.Boolean(required=True, description="false while chunks remain (an instance resumes them)")


class RescoreProgress(RescoreReport):
    phase = graphene.String(required=True, description="ads, clusters or done")


class AdRulesets(graphene.ObjectType):
    active = graphene.String(required=True)
    available = graphene.List(graphene.NonNull(graphene.String), required=True)
    rescore = graphene.Field(RescoreProgress, description="The latest rescore and how far it is")


class TriageOutcome(graphene.ObjectType):
    """What outreach achieved with the clusters one rule-set version flagged (labels from outreach's events)."""
    ruleset_version = graphene.String(required=True, description="The rule-set version whose flag opened the "
                                                                 "outreach task")
    flagged_clusters = graphene.Int(required=True, description="Distinct clusters with at least one ad flagged "
                                                               "under this version (the ads' current clusters, and "
                                                               "clusters outreach labelled for it since re-linked)")
    reached_clusters = graphene.Int(required=True, description="Of those, clusters outreach reached at least once "
                                                               "(conversation held, information given, "
                                                               "identification talk agreed or held)")
    identification_talk_clusters = graphene.Int(required=True, description="Of those, clusters where an "
                                                                           "identification talk was agreed or held")
    attempts = graphene.Int(required=True, description="Outreach contacts (digital attempts) recorded on this "
                                                       "version's clusters, whatever their outcome")


async def resolve_outcomes(_root, info):
    answer = await call(info, "ad_triage", "outcomes")
    return answer["versions"]


class AdContactInput(graphene.InputObjectType):
    kind = graphene.String(required=True)
    value = graphene.String(required=True)


class AdPriceInput(graphene.InputObjectType):
    amount = graphene.Int(required=True)
    currency = graphene.String(required=True)


class AdInput(graphene.InputObjectType):
    platform = graphene.String(required=True)
    ad_id = graphene.String(required=True)
    url = graphene.String(required=True)
    first_seen = graphene.String(required=True, description="ISO 8601 with a timezone offset")
    last_seen = graphene.String(required=True)
    title = graphene.String()
    text = graphene.String(required=True)
    language = graphene.String(required=True)
    location = graphene.String(required=True)
    contacts = graphene.List(graphene.NonNull(AdContactInput), required=True)
    price = graphene.Field(AdPriceInput)
    image_hashes = graphene.List(graphene.NonNull(graphene.String))


def _record(ad) -> dict:
    """GraphQL input to the record format every door shares (camelCase keys, absent optional fields left out)."""
    names = {"ad_id": "adId", "first_seen": "firstSeen", "last_seen": "lastSeen", "image_hashes": "imageHashes"}
    record = {names.get(k, k): v for k, v in dict(ad).items() if v is not None}
    record["contacts"] = [dict(c) for c in record.get("contacts", ())]
    if "price" in record:
        record["price"] = dict(record["price"])
    return record


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str) -> int:
    try:
        kind, _, value = base64.b64decode(cursor, validate=True).decode().partition(":")
        if kind == "offset" and value.isdigit():
            return int(value)
    except ValueError:
        pass
    raise GraphQLError("after is not a cursor this API gave out", extensions={"code": "invalid_input",
                                                                              "field": "after"})


async def resolve_queue(_root, info, state=None, priority=None, first=None, after=None, limit=None, offset=None):
    if (first is not None or after is not None) and (limit is not None or offset is not None):
        raise GraphQLError("page with first/after or with limit/offset, not both",
                           extensions={"code": "invalid_input", "field": "first"})
    size = first if first is not None else (limit if limit is not None else 50)
    start = _offset(after) + 1 if after is not None else (offset or 0)
    page = await call(info, "ad_triage", "queue", state=plain(state), priority=plain(priority), limit=size,
                      offset=start)
    last = start + len(page["items"]) - 1
    return {"total_count": page["total"], "items": page["items"],
            "page_info": {"end_cursor": _cursor(last) if page["items"] else None,
                          "has_next_page": last + 1 < page["total"]}}


def _with_total(result):
    return {**result, "total_count": result["total"]} if "total" in result else result


def _rpc(method: str, *, command: bool = False, rename=None, **fixed):
    """A resolver forwarding its GraphQL arguments to ad_triage.<method>; commands carry the caller as actor and
    the client's requestId as request_id."""
    return forward("ad_triage", method, actor=command, command=command, rename=rename, shape=_with_total, **fixed)


def _setting(name: str):
    spec = SPECS[name]
    return spec.parse(os.environ.get(spec.env) or spec.default)


class SubmissionLimiter:
    """A token bucket per principal: ``burst`` ads at once, refilled at ``per_s`` ads a second. The table of
    buckets is bounded (the least recently used principal's bucket is dropped first: a full one, by then)."""

    MAX_PRINCIPALS = 10_000

    def __init__(self, burst: int, per_s: float, clock=time.monotonic) -> None:
        self.burst, self.per_s, self.clock = burst, per_s, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, principal: str, cost: int = 1) -> float:
        """Take ``cost`` tokens; returns 0 when allowed, else the seconds until they would be there."""
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.pop(principal, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.per_s)
            wait = 0.0 if tokens >= cost else (min(cost, self.burst) - tokens) / self.per_s
            if wait == 0.0:
                tokens -= cost
            self._buckets[principal] = (tokens, now)
            while len(self._buckets) > self.MAX_PRINCIPALS:
                self._buckets.popitem(last=False)
            return wait


_limiter: SubmissionLimiter | None = None


def limiter() -> SubmissionLimiter:
    global _limiter
    if _limiter is None:
        _limiter = SubmissionLimiter(_setting("ad_submit_burst"), _setting("ad_submit_per_s"))
    return _limiter


def _principal_id(info) -> str:
    principal = info.context.get("principal")
    subject = getattr(principal, "subject", None)
    return subject or info.context.get("actor") or "anonymous"


def rate_limit(info, cost: int) -> None:
    wait = limiter().take(_principal_id(info), cost)
    if wait:
        raise GraphQLError(f"too many ads submitted; try again in {wait:.0f} s",
                           extensions={"code": "rate_limited", "retryAfter": max(1, round(wait))})


async def resolve_submit(_root, info, ad, request_id):
    rate_limit(info, 1)
    result = await call(info, "ad_triage", "submit_ad", command=True, record=_record(ad),
                        actor=info.context["actor"], request_id=request_id)
    return _own(result)


def _own(result: dict) -> dict:
    """Only what concerns the submitted ad itself, whatever the service adds to its answer."""
    return {k: result.get(k) for k in ("line", "status", "ad_key", "quarantine_id", "reasons")}


async def resolve_import(_root, info, lines, request_id, format=AdFileFormat.JSONL.value):
    rate_limit(info, max(1, len(lines)))
    report = await call(info, "ad_triage", "import_batch", command=True, lines=lines, format=plain(format),
                        actor=info.context["actor"], request_id=request_id)
    return {**{k: report[k] for k in ("accepted", "updated", "unchanged", "quarantined")},
            "results": [_own(r) for r in report["results"]]}


class TriageQuery(graphene.ObjectType):
    triage_queue = graphene.Field(
        TriageQueuePage, required=True, state=TriageState(), priority=AdPriority(), first=graphene.Int(),
        after=graphene.String(), limit=graphene.Int(), offset=graphene.Int(), resolver=resolve_queue,
        description="Clusters (one advertiser or network each) at priority low or above, by score, recency and "
                    "size, with their best evidence, cities and platforms.")
    triage_ad = graphene.Field(TriageAd, ad_key=graphene.ID(required=True), resolver=_rpc("ad"),
                               description="One ad with its explanation: fired indicators, evidence, rule set.")
    ad_cluster = graphene.Field(AdCluster, cluster_id=graphene.ID(required=True), resolver=_rpc("cluster"))
    ad_quarantine = graphene.Field(QuarantinePage, required=True, status=QuarantineStatus(default_value="open"),
                                   limit=graphene.Int(), offset=graphene.Int(), resolver=_rpc("quarantine"))
    ad_rulesets = graphene.Field(AdRulesets, required=True, resolver=_rpc("rulesets"))
    triage_outcomes = graphene.List(
        graphene.NonNull(TriageOutcome), required=True, resolver=resolve_outcomes,
        description="Per rule-set version, oldest first: how many flagged clusters outreach reached and how many "
                    "led to an identification talk (aggregates only).")


class TriageMutation(graphene.ObjectType):
    submit_ad = graphene.Field(AdRecordResult, ad=AdInput(required=True), request_id=request_id_argument(),
                               resolver=resolve_submit)
    import_ads = graphene.Field(AdImportReport, lines=graphene.List(graphene.NonNull(graphene.String), required=True),
                                format=AdFileFormat(default_value="jsonl"), request_id=request_id_argument(),
                                resolver=resolve_import)
    assign_triage_item = graphene.Field(
        TriageQueueState, cluster_id=graphene.ID(required=True), assignee=graphene.String(),
        reason=graphene.String(required=True), expected_version=graphene.Int(), request_id=request_id_argument(),
        resolver=_rpc("move_item", command=True, to_state="assigned"))
    move_triage_item = graphene.Field(
        TriageQueueState, cluster_id=graphene.ID(required=True), to=TriageState(required=True),
        reason=graphene.String(required=True), expected_version=graphene.Int(), request_id=request_id_argument(),
        resolver=_rpc("move_item", command=True, rename={"to": "to_state"}))
    close_triage_item = graphene.Field(
        TriageQueueState, cluster_id=graphene.ID(required=True), reason=graphene.String(required=True),
        expected_version=graphene.Int(), request_id=request_id_argument(),
        resolver=_rpc("move_item", command=True, to_state="closed"))
    resubmit_quarantined_ad = graphene.Field(
        AdRecordResult, quarantine_id=graphene.ID(required=True), record=graphene.String(
            description="The corrected record (a JSON line, or header and row for CSV); omit to retry as stored"),
        request_id=request_id_argument(), resolver=_rpc("resubmit_quarantined", command=True))
    publish_ad_ruleset = graphene.Field(RescoreReport, version=graphene.String(required=True),
                                        request_id=request_id_argument(),
                                        resolver=_rpc("publish_ruleset", command=True))
    rescore_ads = graphene.Field(RescoreReport, request_id=request_id_argument(),
                                 resolver=_rpc("rescore", command=True))
