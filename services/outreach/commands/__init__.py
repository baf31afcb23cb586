"""Outreach use cases: each checks its inputs, lets the domain decide and writes state, request record and outbox
rows in one transaction."""
