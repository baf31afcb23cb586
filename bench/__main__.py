"""``make bench``: the kit's delivery rates (outbox relay, exactly-once consumer) and ad triage at scale (100,000 ads
unless ``--ads`` says otherwise): the rate from ingestion to ``ad_triage.ad.flagged`` on Kafka, each beside a baseline
of raw produce-and-consume of as many messages of the same size on the same broker, in the same run; the triage
queue page through the gateway at 10,000 and at all ads with 1 and 16 readers beside the gateway's ``/healthz``; the
service's resident memory after the ingest; a rescore of every ad under another rule-set version; the domain
pipeline's in-process rate; and outreach's task list page at 1,000 and 100,000 tasks beside its health RPC. Prints a
table and writes bench/results.json (name, figure, unit, baseline, ratio).

    python -m bench [--ads 100000] [--chunk 1000] [--seed 7] [--readers 1,16] [--calls 40] [--events 5000]
                    [--only delivery|ad_triage|outreach]
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
import uuid
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
logging.getLogger("amqp").setLevel(logging.ERROR)  # channel-closing chatter of the standalone RPC client

from bench import ad_triage, delivery, outreach  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results.json"


def table(entries: list[dict]) -> str:
    def fmt(value):
        return "-" if value is None else (f"{value:,.2f}" if isinstance(value, float) else str(value))
    rows = [("benchmark", "figure", "unit", "baseline", "ratio")]
    rows += [(e["name"], fmt(e["figure"]), e["unit"], fmt(e["baseline"]), fmt(e["ratio"])) for e in entries]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) if i == 0 or i == 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    return "\n".join([lines[0], "-" * len(lines[0])] + lines[1:])


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


def readers(text: str) -> tuple[int, ...]:
    try:
        return tuple(positive(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of reader counts") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--ads", type=positive, default=100_000, help="generated ads to ingest (default 100000)")
    parser.add_argument("--chunk", type=positive, default=1000, help="records per import RPC call")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--readers", type=readers, default=ad_triage.triage_queue.READERS,
                        help="concurrent readers of the triage queue page, comma-separated (default 1,16)")
    parser.add_argument("--calls", type=positive, default=ad_triage.triage_queue.CALLS_PER_READER,
                        help="timed triage queue calls per reader (default 40)")
    parser.add_argument("--events", type=int, default=5000, help="events relayed and consumed by the kit figures")
    parser.add_argument("--only", choices=("delivery", "ad_triage", "outreach"), default=None)
    args = parser.parse_args(argv)
    from tests.support import tokens
    from tests.support.platform import Platform, start_infrastructure

    # the process's token issuer, in a folder of its own that outlives this run's workdir (removed below): the issuer
    # is one per process, and a second run in it (the bench test) must not trust a JWKS file that was deleted
    tokens.issuer()
    workdir = Path(tempfile.mkdtemp(prefix="actionplan-bench-"))
    infra = start_infrastructure(workdir)
    platform = Platform(infra, f"bench{uuid.uuid4().hex[:6]}", None)
    entries: list[dict] = []
    try:
        if args.only in (None, "delivery"):
            entries += delivery.run(platform, args.events)
        if args.only in (None, "ad_triage"):
            entries += ad_triage.run(platform, args.ads, args.chunk, args.seed, args.readers, args.calls)
        if args.only in (None, "outreach"):
            entries += outreach.run(platform)
    except Exception as exc:
        measured = entries + (exc.entries if isinstance(exc, ad_triage.Incomplete) else [])
        if measured:
            print(f"measured before the failure (not written to {RESULTS.name}):\n{table(measured)}", file=sys.stderr)
        print(f"benchmark failed; process logs are in {workdir / platform.name / 'logs'}", file=sys.stderr)
        raise
    finally:
        platform.stop()
        infra.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    print(table(entries))
    RESULTS.write_text(json.dumps(entries, indent=2) + "\n")
    print(f"\nwritten to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
