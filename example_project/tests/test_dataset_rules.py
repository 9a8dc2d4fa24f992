"""A dataset rule that is ours alone, written as an ordinary pytest test.

pytest-ftdata checks what every fine-tuning dataset needs (schema, format,
duplicates, ...). Rules of this product live next to them as plain tests: here,
the support desk's policy that a ticket about a lost, stolen or compromised card or
a payment the customer does not recognise is always urgent. A model trained on a
single "low" answer for such a ticket would learn to sit on fraud reports.

Plain Python and json only; see test_custom_assertions.py for the fixtures
pytest-ftdata offers for the same job.
"""

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "support"
URGENT_INTENTS = {"lost_or_stolen_card", "compromised_card", "card_payment_not_recognised"}


def answers(path: Path):
    """(line, parsed assistant answer) for every example of a clean split."""
    with open(path, encoding="utf-8") as handle:
        for line, text in enumerate(handle, 1):
            record = json.loads(text)
            yield line, json.loads(record["messages"][-1]["content"])


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_security_tickets_are_high_priority(split):
    path = DATA / f"{split}.jsonl"
    wrong = [
        f"{path.name}:{line}: {answer['intent']} has priority {answer.get('priority')!r}"
        for line, answer in answers(path)
        if answer["intent"] in URGENT_INTENTS and answer.get("priority") != "high"
    ]
    assert not wrong, "security tickets must be high priority:\n" + "\n".join(wrong)
