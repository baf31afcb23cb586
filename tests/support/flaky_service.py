"""A test-only nameko service that exercises the kit's Kafka consumer: it fails on purpose.

Subjects ending in "-poison" always fail; subjects ending in "-flaky" fail twice, then succeed. Every attempt is
recorded (outside any transaction) so tests can count them.
"""
from kit.inbox import handle_once
from kit.consumer import kafka_consumer
from kit.nameko_kit import HealthCheck, Store, Tracing
from kit.storage import MongoStore


class FlakyStore(MongoStore):
    """The kit's store base: client, database and the ``ping`` the health check calls."""


class FlakyService(HealthCheck):
    name = "flaky"
    store = Store(FlakyStore)
    tracing = Tracing()

    @kafka_consumer("grants.application.submitted")
    def handle(self, event: dict) -> None:
        subject = event["subject"]
        attempts = self.store.db.attempts.find_one_and_update(
            {"_id": subject}, {"$inc": {"n": 1}}, upsert=True, return_document=True)["n"]
        if subject.endswith("-poison") or (subject.endswith("-flaky") and attempts <= 2):
            raise RuntimeError(f"failing on purpose (attempt {attempts})")
        handle_once(self.store.client, self.store.db, "flaky", event,
                    lambda s: self.store.db.handled.insert_one({"subject": subject}, session=s))


SERVICE = FlakyService
