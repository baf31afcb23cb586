"""Outreach rules: plain Python, no framework (import-linter checks)."""
