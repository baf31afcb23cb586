"""The fault suite prints each scenario's figures once more at the end of the session, together."""
from tests.faults.support import FIGURES


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("fault scenarios: figures")
        for figures in FIGURES:
            terminalreporter.write_line(figures.line())
