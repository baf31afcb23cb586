"""The events the ad-triage service publishes, and the data each carries (the contracts are in schemas/events/).

``ad_triage.ad.observed`` is published by crawlers' connectors and consumed here; ``flagged`` and
``priority_changed`` follow from comparing an ad's new score with its stored one. Event data carries pseudonyms and
masked text only, never a contact value. The service edge wraps the data in the envelope and stages it in the outbox.
"""
from __future__ import annotations

from datetime import datetime

from .contacts import PseudoContact
from .places import known_city
from .records import AdKey, Price
from .ruleset import PRIORITIES, RuleSet
from .scoring import Score
from .stored import StoredAd, key_string
from .triage import is_flagged

OBSERVED = "ad_triage.ad.observed"
FLAGGED = "ad_triage.ad.flagged"
PRIORITY_CHANGED = "ad_triage.ad.priority_changed"


def _at_or_above(priority: str | None, level: str) -> bool:
    return priority in PRIORITIES and PRIORITIES.index(priority) <= PRIORITIES.index(level)


def score_events(key: AdKey, ad: StoredAd, cluster_id: str, new: Score, old: dict | None,
                 flagged_versions: list[str], ruleset: RuleSet, cause: str) -> tuple[list[tuple[str, dict]], list[str]]:
    """(events, flagged versions after them) of an ad scored ``new`` whose stored score was ``old``.

    A priority change is announced with its cause; "flagged" is sent when the ad first reaches the rule set's flag
    level under this rule-set version (once per ad and version, so a rescore never repeats it).
    """
    data = {"adKey": key_string(key), "clusterId": cluster_id, "score": new.value, "priority": new.priority,
            "rulesetVersion": ruleset.version, "city": known_city(ad.location)}
    events: list[tuple[str, dict]] = []
    if old and old["priority"] != new.priority:
        events.append((PRIORITY_CHANGED, {**data, "previousPriority": old["priority"],
                                          "previousRulesetVersion": old["ruleset_version"], "cause": cause}))
    was_flagged = old is not None and _at_or_above(old["priority"], ruleset.flag_at)
    if is_flagged(new, ruleset) and not was_flagged and ruleset.version not in flagged_versions:
        events.append((FLAGGED, data))
        flagged_versions = [*flagged_versions, ruleset.version]
    return events, flagged_versions


def cluster_events(best_ad: str, best_city: str | None, cluster_id: str, new: Score, previous: dict | None,
                   flagged_versions: list[str], announced: list[list], ruleset: RuleSet,
                   cause: str) -> tuple[list[tuple[str, str, dict]], list[str], list[list]]:
    """(events as (type, ad key, data), flagged versions, announced ads) for a cluster now scored ``new``.

    Events are about the cluster and name its best ad (outreach keeps one task per cluster): "priority_changed"
    when its priority differs from the stored one, and "flagged" once per cluster and rule-set version when the
    cluster first reaches the flag level. An ad announced earlier (a former best, or the best of a cluster merged
    into this one) that outreach still knows under another cluster id or priority is told the cluster's new ones,
    so outreach's task follows the cluster through merges. ``announced`` rows: [ad key, cluster id, priority,
    rule-set version]."""
    target = [cluster_id, new.priority, ruleset.version]
    data = {"clusterId": cluster_id, "score": new.value, "priority": new.priority,
            "rulesetVersion": ruleset.version}
    events: list[tuple[str, str, dict]] = []
    rows = {row[0]: list(row) for row in announced}

    def changed(ad: str, priority: str, version: str, why: str, city: str | None) -> None:
        events.append((PRIORITY_CHANGED, ad, {"adKey": ad, **data, "city": city, "previousPriority": priority,
                                              "previousRulesetVersion": version, "cause": why}))
        rows[ad] = [ad, *target]

    if previous is not None and previous["priority"] != new.priority:
        changed(best_ad, previous["priority"], previous["ruleset_version"], cause, best_city)
    was_flagged = previous is not None and _at_or_above(previous["priority"], ruleset.flag_at)
    if is_flagged(new, ruleset) and not was_flagged and ruleset.version not in flagged_versions:
        events.append((FLAGGED, best_ad, {"adKey": best_ad, **data, "city": best_city}))
        flagged_versions = [*flagged_versions, ruleset.version]
        rows[best_ad] = [best_ad, *target]
    for ad, row in list(rows.items()):
        if row[1:3] != target[:2] and not any(e[1] == ad for e in events):
            changed(ad, row[2], row[3], cause if row[1] == cluster_id else "linked", None)
    return events, flagged_versions, list(rows.values())


def observed_data(ad: StoredAd, observed_at: datetime, connector: str) -> dict:
    """Data of ad_triage.ad.observed: the stored shape, in the contract's camelCase."""
    return {
        "platform": ad.platform, "adId": ad.ad_id, "url": ad.url, "firstSeen": ad.first_seen.isoformat(),
        "lastSeen": ad.last_seen.isoformat(), "title": ad.title, "text": ad.text, "language": ad.language,
        "location": ad.location,
        "contacts": [{"kind": c.kind, "pseudonym": c.pseudonym, "obfuscated": c.obfuscated, "valid": c.valid,
                      "callingCode": c.calling_code, "region": c.region, "area": c.area, "source": c.source}
                     for c in ad.contacts],
        "price": None if ad.price is None else {"amount": ad.price.amount, "currency": ad.price.currency},
        "imageHashes": list(ad.image_hashes), "observedAt": observed_at.isoformat(), "connector": connector,
    }


def stored_from_observed(data: dict) -> StoredAd:
    price = data.get("price")
    return StoredAd(
        platform=data["platform"], ad_id=data["adId"], url=data["url"],
        first_seen=datetime.fromisoformat(data["firstSeen"]), last_seen=datetime.fromisoformat(data["lastSeen"]),
        title=data["title"], text=data["text"], language=data["language"], location=data["location"],
        contacts=tuple(PseudoContact(c["kind"], c["pseudonym"], c["obfuscated"], c["valid"], c["callingCode"],
                                     c["region"], c["area"], c.get("source", "field")) for c in data["contacts"]),
        price=Price(price["amount"], price["currency"]) if price else None,
        image_hashes=tuple(data["imageHashes"]),
    )
