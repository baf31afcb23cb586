"""Developer tools for the ad-triage service (synthetic data only)."""
