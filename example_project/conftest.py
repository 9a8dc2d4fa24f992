"""Project-specific dataset checks of the support desk.

pytest-ftdata runs these next to its built-in checks: each becomes one item per file
(`data/support/train.jsonl::urgent-priority`) or per dataset
(`data/support/dataset::unique-ticket-ids`), fails like a linter with our own rule
codes, and shows up in the JSON report and the terminal summary.

Two ways to register a check are shown: the `@pytest_ftdata.check` decorator (on a
function that looks at one example at a time), and the `pytest_ftdata_checks` hook
(here returning a class that keeps state across every file of a dataset).
"""

import pytest

import pytest_ftdata
from pytest_ftdata import DatasetFamily

#: Tickets about a lost, stolen or compromised card, or a payment the customer does
#: not recognise, are urgent: a model that learns to answer "low" sits on fraud reports.
URGENT_INTENTS = {"lost_or_stolen_card", "compromised_card", "card_payment_not_recognised"}

URGENT_PRIORITY = pytest_ftdata.rule(
    code="ACME001",
    name="urgent-ticket-priority",
    summary="A security ticket is not answered with priority high.",
    why="Fraud and lost-card tickets must always be triaged as high priority.",
)
DUPLICATE_TICKET = pytest_ftdata.rule(
    code="ACME002",
    name="duplicate-ticket-id",
    summary="Two examples share one ticket id.",
    why="Each support ticket is exported once; a repeated id means a double export or an id clash.",
    family="unique-ticket-ids",  # the class check below reports it (a decorated function check binds its rule itself)
)


@pytest_ftdata.check("urgent-priority", rule=URGENT_PRIORITY)
def urgent_tickets_are_high_priority(example):
    # Answers that are not JSON are the `format` check's business.
    answer = example.target
    if not isinstance(answer, dict) or answer.get("intent") not in URGENT_INTENTS:
        return None
    if answer.get("priority") != "high":
        return f"Ticket about {answer['intent']} has priority {answer.get('priority')!r}; it must be 'high'."
    return None


class UniqueTicketIds(DatasetFamily):
    """Every ticket id appears once across all the splits of a dataset."""

    family = "unique-ticket-ids"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.first_seen = {}  # ticket id -> "path:line" (compact: strings only)
        self.findings = []

    def visit(self, example):
        ticket = (example.record.get("metadata") or {}).get("ticket_id")
        if ticket is None:
            return
        where = f"{example.path}:{example.line}"
        first = self.first_seen.setdefault(ticket, where)
        if first != where:
            path, _, line = first.rpartition(":")
            self.findings.append(
                DUPLICATE_TICKET.at(
                    example.path, example.line,
                    f"Ticket id {ticket} was already used at {first}; give each ticket one example.",
                    related=[(path, int(line))],
                )
            )

    def finish(self):
        return self.findings


@pytest.hookimpl(optionalhook=True)  # the project also runs with `-p no:ftdata`
def pytest_ftdata_checks(config):
    return [UniqueTicketIds]
