"""Bulk import from the command line: sends a JSON Lines or CSV file in chunks over RPC, prints each record's fate.

    python -m services.ad_triage.tools.bulk_import FILE [--format jsonl|csv] [--chunk 500] [--actor ID] [--quiet]

It acts as the ``ingest_connector`` service account of the access policy, with PRINCIPAL_KEY from its environment
(an operators' tool: run it where the platform's keys are).

Each chunk carries its own request id, reused on a retry after a timeout, so a retried chunk adds no second
sighting. CSV chunks repeat the header and are cut only between rows (a quoted cell may span lines).
"""
from __future__ import annotations

import argparse
import csv
import sys
import uuid

from nameko.exceptions import RpcTimeout
from nameko.standalone.rpc import ClusterRpcProxy

from kit.nameko_kit import service_account
from kit.settings import SettingsError, load


def chunks(lines: list[str], fmt: str, size: int):
    """Yield (first file line of the chunk's records, chunk lines) with the CSV header repeated in each."""
    if fmt == "jsonl":
        for start in range(0, len(lines), size):
            yield start + 1, lines[start:start + size]
        return
    if not lines:
        return
    reader = csv.reader(lines)
    next(reader, None)
    header, rows, taken, first = lines[:reader.line_num], [], reader.line_num, reader.line_num + 1
    for _row in reader:
        rows += lines[taken:reader.line_num]
        taken = reader.line_num
        if len(rows) >= size:
            yield first, header + rows
            rows, first = [], taken + 1
    if rows:
        yield first, header + rows


def run_import(rpc, lines: list[str], fmt: str, size: int, actor: str, out=sys.stdout, quiet=False) -> dict:
    """Import ``lines`` chunk by chunk; returns the totals and, under "results", every record's result."""
    totals = {"accepted": 0, "updated": 0, "unchanged": 0, "quarantined": 0, "flagged": 0}
    results: list[dict] = []
    run = uuid.uuid4().hex[:16]
    for index, (first, chunk) in enumerate(chunks(lines, fmt, size)):
        request_id = f"cli-{run}-{index}"
        for attempt in (1, 2):
            try:
                report = rpc.ad_triage.import_batch(lines=chunk, format=fmt, actor=actor, request_id=request_id,
                                                    first_line=first)
                break
            except RpcTimeout:
                if attempt == 2:
                    raise
        for key in totals:
            totals[key] += report[key]
        results += report["results"]
        if not quiet:
            for r in report["results"]:
                detail = r.get("ad_key") or f"{r['quarantine_id']}: {'; '.join(r['reasons'])}"
                print(f"line {r['line']}: {r['status']} {detail}", file=out)
    print(" ".join(f"{k}={v}" for k, v in totals.items()), file=out)
    return {**totals, "results": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.ad_triage.tools.bulk_import",
                                     description="import a JSON Lines or CSV file of ads")
    parser.add_argument("file")
    parser.add_argument("--format", choices=("jsonl", "csv"), default=None, help="default: from the file name")
    parser.add_argument("--chunk", type=int, default=500, help="records per RPC call")
    parser.add_argument("--actor", default="cli", help="pseudonymous id of who imports")
    parser.add_argument("--quiet", action="store_true", help="print only the totals")
    parser.add_argument("--max-hours", type=float, default=1.0, help="how long the tool's sealed principal is valid")
    args = parser.parse_args(argv)
    if args.chunk < 1:
        parser.error("--chunk must be at least 1")
    fmt = args.format or ("csv" if args.file.endswith(".csv") else "jsonl")
    try:
        settings = load("ad_triage", required=("principal_key",))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 78
    with open(args.file, encoding="utf-8", newline="") as fh:
        lines = fh.read().splitlines(keepends=fmt == "csv")
    # the tool acts as the ingest_connector service account: its principal is sealed with PRINCIPAL_KEY from the
    # environment (only hosts that hold the key can import), valid for --max-hours
    account = service_account(settings, "ingest_connector", args.actor, lifetime_s=args.max_hours * 3600)
    with ClusterRpcProxy({"AMQP_URI": settings.amqp_uri, "serializer": "json"},
                         timeout=max(settings.rpc_timeout_s, 60), context_data=account) as rpc:
        run_import(rpc, lines, fmt, args.chunk, args.actor, quiet=args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
