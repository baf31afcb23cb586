"""Operator tools of the evaluation service (tools/digest.py: a digest of the counters, to compare replicas)."""
