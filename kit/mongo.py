"""MongoDB connections and transactions for services (synchronous PyMongo; nameko runs on eventlet).

PyMongo 4.16 dropped eventlet, so services pin the 4.15 line; the gateway uses PyMongo's AsyncMongoClient instead.
"""
from __future__ import annotations

from typing import Callable, TypeVar

from pymongo import MongoClient
from pymongo.client_session import ClientSession

from kit.settings import Settings

T = TypeVar("T")


def connect(settings: Settings, **options) -> MongoClient:
    return MongoClient(settings.mongo_uri, serverSelectionTimeoutMS=5000, tz_aware=True, appname=settings.service,
                       **options)


def in_transaction(client: MongoClient, work: Callable[[ClientSession], T]) -> T:
    """Run ``work`` in one transaction; transient conflicts are retried by the driver's with_transaction."""
    with client.start_session() as session:
        return session.with_transaction(work)
