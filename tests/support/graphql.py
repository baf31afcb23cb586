"""Reading GraphQL answers in tests: the data of a field that must have succeeded, or the code of an error."""


def ok(result: dict, field: str):
    assert "errors" not in result, result.get("errors")
    return result["data"][field]


def error_code(result: dict) -> str:
    assert result.get("errors"), result
    return result["errors"][0]["extensions"]["code"]
