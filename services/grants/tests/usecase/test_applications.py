"""The application lifecycle through the commands: what each step stores and stages for Kafka."""
from services.grants.tests.usecase.conftest import NGO, OFFICER, POOL, UNIVERSITY, draft_arguments, outbox


def test_draft_submit_assess_award_stores_each_step_and_its_events(store, applications, queries):
    drafted = applications.draft(**draft_arguments())
    app_id = drafted["id"]
    assert drafted["state"] == "draft"
    assert applications.submit(application_id=app_id, actor=OFFICER)["state"] == "submitted"
    assert applications.move("start_assessment", application_id=app_id, actor=OFFICER)["state"] == "in_assessment"
    awarded = applications.award(application_id=app_id, amount_ore=40_000_000, award_date="2016-04-01",
                                 actor=OFFICER)

    assert awarded["state"] == "awarded"
    assert [t["to_state"] for t in awarded["history"]] == ["draft", "submitted", "in_assessment", "awarded"]
    doc = store.db.applications.find_one({"_id": app_id})
    assert (doc["state"], doc["version"]) == ("awarded", 4)
    assert store.db.pools.find_one({"_id": POOL})["committed"] == 40_000_000
    assert store.db.grant_balances.find_one({"_id": app_id})["committed"] == 40_000_000
    assert [o["_id"] for o in store.db.obligations.find()] == [f"{app_id}:mid-term-review"]
    assert queries.grant(app_id)["balance"] == {"committed_ore": 40_000_000, "disbursed_ore": 0,
                                                "undisbursed_ore": 40_000_000, "withdrawn": False,
                                                "award_date": "2016-04-01"}

    staged = [e for e in outbox(store) if e["type"] != "grants.pool.opened"]
    assert [e["type"] for e in staged] == [
        "grants.application.drafted", "grants.application.submitted", "grants.application.assessment_started",
        "grants.award.committed", "grants.application.awarded"]
    submitted = staged[1]
    assert submitted["subject"] == app_id
    assert (submitted["data"]["applicantId"], submitted["data"]["knowledgePartnerId"]) == (NGO, UNIVERSITY)
    assert staged[3]["subject"] == POOL and staged[3]["data"]["amountOre"] == 40_000_000


def test_assessment_notes_are_stored_encrypted_and_read_back_only_through_their_query(store, applications,
                                                                                   queries, in_assessment):
    applications.add_assessment_note(application_id=in_assessment, text="met the coordinator", actor=OFFICER)
    stored = store.db.applications.find_one({"_id": in_assessment})["assessment_notes"][0]["text"]
    assert "coordinator" not in str(stored)
    assert [n["text"] for n in queries.assessment_notes(in_assessment)] == ["met the coordinator"]
