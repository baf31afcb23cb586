"""Computed features that feature indicators in a rule set test against thresholds.

Every feature is a number so a rule set can compare it with ">= threshold"; booleans are 0 or 1.
"""
from __future__ import annotations

from .clusters import ClusterSummary
from .contacts import PHONE_KINDS
from .places import country_of
from .stored import StoredAd

FEATURES = frozenset({
    "obfuscated_phone",  # a phone-type contact was disguised (validated predictor: "obscured phone number")
    "obfuscated_handle",  # a handle or e-mail was disguised (hypothesis)
    "contact_city_spread",  # most distinct cities any one of the ad's contacts appears in (hypothesis)
    "cluster_size",  # ads in the ad's cluster, itself included (hypothesis)
    "area_code_mismatch",  # a phone's country differs from the stated city's (hypothesis)
})

# signals of the cluster as a whole: scored on the cluster (scoring.cluster_score), never on one ad
NETWORK_FEATURES = frozenset({"contact_city_spread", "cluster_size"})


def compute_features(ad: StoredAd, cluster: ClusterSummary | None = None) -> dict[str, float]:
    """Features of one stored ad; without a cluster summary the ad counts as a cluster of one.

    Denmark has a closed numbering plan without area codes, so "area code not matching location" can only be
    judged at country level here: a foreign number in a Danish city. Unknown cities never count as a mismatch.
    """
    phones = [c for c in ad.contacts if c.kind in PHONE_KINDS]
    handles = [c for c in ad.contacts if c.kind not in PHONE_KINDS]
    country = country_of(ad.location)
    pseudonyms = [c.pseudonym for c in ad.contacts]
    return {
        "obfuscated_phone": float(any(c.obfuscated for c in phones)),
        "obfuscated_handle": float(any(c.obfuscated for c in handles)),
        "contact_city_spread": float(cluster.max_spread(pseudonyms) if cluster else (1 if pseudonyms else 0)),
        "cluster_size": float(cluster.ad_count if cluster else 1),
        "area_code_mismatch": float(
            country is not None and any(c.region is not None and c.region != country for c in phones)
        ),
    }
