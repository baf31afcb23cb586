"""Evaluation's use cases: counting a fact once (counting.py)."""
