"""Commands of the ad-triage service, one module per use case. Each loads what it needs, lets the domain decide,
and saves state and outbox rows in one transaction (storage.py):

- sources.py: the ways ads come in (bulk import, one ad from the gateway, observation events, resubmission from the
  quarantine), each turning what it received into arrivals;
- ingestion.py: arrivals merged into their stored history, linked, assessed and written, rejections quarantined;
- assessment.py: scoring ads in their clusters and the events a changed score raises (ingestion and rescoring);
- triage.py: queue moves by outreach staff;
- rulesets.py: publishing a rule set and rescoring.
"""
