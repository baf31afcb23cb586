"""Cross-cutting code shared by every actionplan service and the gateway. No domain rules live here."""
