"""Which failures are the infrastructure's and which are the event's.

An infrastructure failure (the database or the broker unreachable, a retryable transaction conflict) says nothing
about the event: the consumer waits and tries again, for as long as it takes, and never dead-letters for it. Every
other error is the handler's: it counts as an attempt, and the event is dead-lettered after the last one.
"""
from __future__ import annotations

from kafka import errors as kafka_errors
from pymongo import errors as mongo_errors

# AutoReconnect covers NetworkTimeout, NotPrimaryError and ServerSelectionTimeoutError; ConnectionFailure also
# covers WaitQueueTimeoutError (a pool with no free connection)
_MONGO_UNAVAILABLE = (mongo_errors.ConnectionFailure, mongo_errors.AutoReconnect, mongo_errors.NetworkTimeout,
                      mongo_errors.ServerSelectionTimeoutError, mongo_errors.WaitQueueTimeoutError)
_RETRYABLE_LABELS = ("TransientTransactionError", "RetryableWriteError")
_KAFKA_UNAVAILABLE = tuple(t for t in (
    kafka_errors.KafkaConnectionError, kafka_errors.KafkaTimeoutError, kafka_errors.NodeNotReadyError,
    getattr(kafka_errors, "NoBrokersAvailable", None),  # kafka-python 2.x; 3.x raises KafkaConnectionError
) if t is not None)
_OS_UNAVAILABLE = (ConnectionError, TimeoutError)


def is_infrastructure_error(exc: BaseException) -> bool:
    """True when ``exc``, or an error it was raised from, is an outage or a retryable conflict of the database or
    the broker rather than something wrong with the event or the handler."""
    seen = set()
    while exc is not None and id(exc) not in seen and len(seen) < 10:
        seen.add(id(exc))
        if _is_infrastructure(exc):
            return True
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return False


def _is_infrastructure(exc: BaseException) -> bool:
    if isinstance(exc, _MONGO_UNAVAILABLE + _KAFKA_UNAVAILABLE + _OS_UNAVAILABLE):
        return True
    if isinstance(exc, mongo_errors.PyMongoError):
        return any(exc.has_error_label(label) for label in _RETRYABLE_LABELS)
    if isinstance(exc, kafka_errors.KafkaError):
        return bool(getattr(exc, "retriable", False))
    return False
