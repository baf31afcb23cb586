"""Which errors the consumer waits out (the infrastructure's) and which count as the handler's attempts."""
import pytest
from kafka.errors import CommitFailedError, KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError
from pymongo.errors import (AutoReconnect, ConnectionFailure, DuplicateKeyError, NetworkTimeout, OperationFailure,
                            ServerSelectionTimeoutError, WaitQueueTimeoutError, WriteError)

from kit.contracts import ContractError
from kit.faults import is_infrastructure_error


def labelled(label: str) -> OperationFailure:
    return OperationFailure("conflict", code=112, details={"errorLabels": [label]})


@pytest.mark.parametrize("exc", [
    AutoReconnect("x"), ConnectionFailure("x"), ServerSelectionTimeoutError("x"), NetworkTimeout("x"),
    WaitQueueTimeoutError("x"), labelled("TransientTransactionError"), labelled("RetryableWriteError"),
    KafkaConnectionError("x"), KafkaTimeoutError("x"), NodeNotReadyError("x"), ConnectionRefusedError("x"),
    TimeoutError("x"),
])
def test_infrastructure(exc):
    assert is_infrastructure_error(exc)


@pytest.mark.parametrize("exc", [
    ValueError("x"), KeyError("x"), RuntimeError("x"), ContractError("x"), OperationFailure("bad query", code=2),
    WriteError("validation", code=121), DuplicateKeyError("dup", code=11000), CommitFailedError(),
])
def test_the_handlers_own(exc):
    assert not is_infrastructure_error(exc)


def test_an_error_raised_from_an_outage_is_the_outage():
    try:
        try:
            raise AutoReconnect("mongo down")
        except AutoReconnect as cause:
            raise RuntimeError("could not store") from cause
    except RuntimeError as exc:
        assert is_infrastructure_error(exc)
