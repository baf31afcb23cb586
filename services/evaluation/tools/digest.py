"""Print a digest of evaluation's counters over RPC, so two deployments (a live one and a replay) can be compared:

    python -m services.evaluation.tools.digest

It calls as the ``operator`` role (subject ``cli-digest``), sealing its principal with PRINCIPAL_KEY from its
environment (an operators' tool: run it where the platform's keys are).
"""
from __future__ import annotations

import hashlib
import json
import sys

from nameko.standalone.rpc import ClusterRpcProxy

from kit.nameko_kit import service_account
from kit.settings import SettingsError, load


def digest(counts: dict) -> str:
    return hashlib.sha256(json.dumps(counts, sort_keys=True).encode()).hexdigest()


def main() -> int:
    try:
        settings = load("evaluation", required=("principal_key",))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 78
    with ClusterRpcProxy({"AMQP_URI": settings.amqp_uri, "serializer": "json"}, timeout=settings.rpc_timeout_s,
                         context_data=service_account(settings, "operator", "cli-digest", lifetime_s=600)) as rpc:
        counts = rpc.evaluation.activity_counts()
    print(json.dumps({"digest": digest(counts), "counts": counts}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
