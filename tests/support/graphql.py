"""Reading GraphQL answers in tests: the data of a field that must have succeeded, or the code of an error; and a
fresh requestId for each command a test sends."""
import uuid


def ok(result: dict, field: str):
    assert "errors" not in result, result.get("errors")
    return result["data"][field]


def error_code(result: dict) -> str:
    assert result.get("errors"), result
    return result["errors"][0]["extensions"]["code"]


def request_id() -> str:
    """A fresh requestId for one command (a test that retries a command reuses the one it sent)."""
    return f"test-{uuid.uuid4().hex}"
