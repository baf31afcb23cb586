"""Command-line tools of the ad-triage service: synthetic data (generate_ads), the bulk import over RPC
(bulk_import) and the crawler connector that publishes observations to Kafka (connector)."""
