"""Command-line tools of the outreach service."""
