import pytest

from kit.errors import CommandRejected, translate_errors


class DomainProblem(Exception):
    code = "budget_exceeded"

    def __init__(self, message, **details):
        super().__init__(message)
        self.message, self.details = message, details


class Service:
    @translate_errors
    def award(self, *, amount):
        if amount > 10:
            raise DomainProblem("award exceeds the remaining budget", field="amount")
        return amount

    @translate_errors
    def forward(self, **kwargs):
        return self.award(**kwargs)

    @translate_errors
    def buggy(self):
        return len(3)


def test_domain_errors_become_command_rejected_with_code_and_field():
    with pytest.raises(CommandRejected) as raised:
        Service().award(amount=11)
    assert (raised.value.code, raised.value.field) == ("budget_exceeded", "amount")
    assert CommandRejected.parse(str(raised.value)).message == "award exceeds the remaining budget"


def test_wrong_keyword_arguments_are_bad_input():
    with pytest.raises(CommandRejected) as raised:
        Service().forward(amnt=1)
    assert raised.value.code == "invalid_arguments"


def test_a_bug_stays_a_bug():
    with pytest.raises(TypeError):
        Service().buggy()
