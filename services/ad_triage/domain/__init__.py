"""Pure domain code of the ad-triage service.

Nothing in this package may import nameko, pymongo, kafka or graphene (an import-linter contract enforces it),
so the rules can be tested without I/O and moved to another runtime later.
"""
