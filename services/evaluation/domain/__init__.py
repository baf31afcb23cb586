"""Evaluation's rules: what each fact counts towards. No framework imports (import-linter checks)."""
