"""Outreach (initiatives 1 and 3): venues of concern, systematic screening visits, anonymous contacts, digital outreach."""
