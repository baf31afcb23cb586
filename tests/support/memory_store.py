"""An in-memory stand-in for a service's MongoDB, for use-case tests: the service's real store class runs on
mongomock, so a rule in a command is tested in milliseconds without a server.

``in_memory(StoreClass)`` returns a subclass of the real store (same interface, same storage code) on a mongomock
client whose transactions are all-or-nothing: the databases are copied before the work and restored if it raises.
"""
from __future__ import annotations

import copy
from functools import lru_cache

import mongomock
from pymongo.operations import DeleteMany, DeleteOne, InsertOne, ReplaceOne, UpdateMany, UpdateOne

from kit.outbox import Outbox
from kit.settings import load

KEYS = {"PSEUDONYM_KEY": "0xn0W0IkRLWtq2B+GxZHI8iVAm5cMK7yuFhL9cksWDo=",
        "NOTES_ENCRYPTION_KEY": "6ThNbk2cUQukBDHXleTU3z7/IbOWRPV89djs5XYHrWw="}


def _bulk_write(self, requests, ordered=True, bypass_document_validation=False, session=None, **_):
    # mongomock's bulk_write predates pymongo 4.15's operation objects; apply them one by one instead
    for op in requests:
        if isinstance(op, InsertOne):
            self.insert_one(op._doc)
        elif isinstance(op, ReplaceOne):
            self.replace_one(op._filter, op._doc, upsert=bool(op._upsert))
        elif isinstance(op, UpdateOne):
            self.update_one(op._filter, op._doc, upsert=bool(op._upsert))
        elif isinstance(op, UpdateMany):
            self.update_many(op._filter, op._doc, upsert=bool(op._upsert))
        elif isinstance(op, DeleteOne):
            self.delete_one(op._filter)
        elif isinstance(op, DeleteMany):
            self.delete_many(op._filter)
        else:
            raise TypeError(f"unsupported bulk operation {type(op).__name__}")


mongomock.collection.Collection.bulk_write = _bulk_write


def settings(service: str, **env):
    return load(service, {**KEYS, **env})


def _snapshot(client) -> dict:
    return {(db_name, name): (copy.deepcopy(col._documents), copy.deepcopy(col.indexes), col._is_force_created)
            for db_name, db in client._store._databases.items() for name, col in db._collections.items()}


def _restore(client, saved: dict) -> None:
    for db_name, db in client._store._databases.items():
        for name, col in db._collections.items():
            if (db_name, name) in saved:
                col._documents, col.indexes, col._is_force_created = saved[(db_name, name)]
            else:
                col.drop()


class _Session:
    """What kit.mongo.in_transaction needs of a session: with_transaction, all or nothing. Work receives None as
    its session, which mongomock's collections accept."""

    def __init__(self, client) -> None:
        self.client = client

    def __enter__(self):
        return self

    def __exit__(self, *_exc) -> None:
        return None

    def with_transaction(self, work):
        saved = _snapshot(self.client)
        try:
            return work(None)
        except BaseException:
            _restore(self.client, saved)
            raise


class MemoryClient(mongomock.MongoClient):
    def start_session(self, *_args, **_kwargs) -> _Session:
        return _Session(self)


@lru_cache(maxsize=None)
def in_memory(store_class):
    class InMemory(store_class):
        def ping(self) -> None:
            return None

    InMemory.__name__ = f"InMemory{store_class.__name__}"
    return InMemory


def make_store(store_class, service: str, **env):
    """A ready in-memory store of ``store_class`` for ``service``, set up as the service would set it up."""
    client = MemoryClient(tz_aware=True)
    config = settings(service, **env)
    db = client[config.database]
    store = in_memory(store_class)(client, db, Outbox(db, config), config)
    store.setup()
    return store
