"""Build the example support-ticket dataset from the raw Banking77 CSVs.

    python build_dataset.py                      # reads ../../shared/datasets/banking77/raw
    python build_dataset.py --source DIR         # a folder holding train.csv and test.csv
    python build_dataset.py --check              # rebuild in memory, compare with data/

Writes, deterministically (same input, same bytes):

- data/support/{train,val,test}.jsonl: 20 intents x 30 tickets (24/3/3), OpenAI chat
  format, a fixed system prompt, the customer's message as the user turn and a JSON
  answer {"intent", "priority"} as the assistant turn, plus provenance metadata;
- data/support_broken/{train,val,test}.jsonl: the same files with planted defects;
- planted.json, beside data/ rather than in it (a `.json` array of records under
  data/ would be collected as one more dataset file): each defect with its file, line
  and the check that should find it (the ground truth tests/test_example_project.py reads).

Banking77 (Casanueva et al., 2020) is CC BY 4.0; see ATTRIBUTION.md for what was
changed. Train and validation tickets come from Banking77's train.csv, test tickets
from its test.csv. Standard library plus rapidfuzz (a pytest-ftdata dependency).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
from pathlib import Path

from rapidfuzz import fuzz

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent / "shared" / "datasets" / "banking77" / "raw"
SEED = 77

SYSTEM_PROMPT = (
    "You triage messages sent to a retail bank's support desk. Classify the customer's message "
    'and answer with JSON only: {"intent": "<one of the 20 support intents>", "priority": "low" | "medium" | "high"}.'
)
#: The prompt an older export used; planted once in the broken copy.
STALE_SYSTEM_PROMPT = "You are a helpful banking assistant. Reply with the intent of the message."

#: The 20 intents kept, with the priority the support desk gives each. Security and
#: money-gone intents are urgent, how-to questions are not. Several confusable pairs
#: are kept on purpose (card_arrival/card_delivery_estimate, top_up_failed/top_up_reverted,
#: pending_transfer/transfer_not_received_by_recipient, lost_or_stolen_card/compromised_card).
PRIORITY = {
    "lost_or_stolen_card": "high",
    "compromised_card": "high",
    "card_payment_not_recognised": "high",
    "transaction_charged_twice": "high",
    "transfer_not_received_by_recipient": "high",
    "pin_blocked": "medium",
    "declined_card_payment": "medium",
    "failed_transfer": "medium",
    "pending_transfer": "medium",
    "top_up_failed": "medium",
    "top_up_reverted": "medium",
    "request_refund": "medium",
    "card_arrival": "medium",
    "verify_my_identity": "medium",
    "terminate_account": "medium",
    "card_delivery_estimate": "low",
    "activate_my_card": "low",
    "change_pin": "low",
    "exchange_rate": "low",
    "cash_withdrawal_charge": "low",
}
INTENTS = sorted(PRIORITY)
PER_SPLIT = {"train": 24, "val": 3, "test": 3}
#: Texts at least this similar (rapidfuzz ratio of the normalised texts) to one already
#: kept are skipped, so the clean dataset has no near-duplicates within or across splits.
NEAR_DUPLICATE_RATIO = 85


def read_banking77(path: Path) -> list[dict]:
    """Rows of a Banking77 CSV with their 1-based data row number. The files use CRLF
    and some quoted texts hold newlines, so only a real CSV parser reads them right."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [
            {"text": row["text"], "intent": row["category"], "row": number}
            for number, row in enumerate(csv.DictReader(handle), 1)
        ]


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def select(rows: list[dict], intent: str, count: int, kept: list[str], rng: random.Random) -> list[dict]:
    candidates = [row for row in rows if row["intent"] == intent]
    rng.shuffle(candidates)
    chosen = []
    for row in candidates:
        key = normalise(row["text"])
        if any(fuzz.ratio(key, other) >= NEAR_DUPLICATE_RATIO for other in kept):
            continue
        kept.append(key)
        chosen.append(row)
        if len(chosen) == count:
            return chosen
    raise SystemExit(f"not enough distinct texts for {intent}")


def answer(intent: str, priority: str | None = None) -> str:
    return json.dumps({"intent": intent, "priority": priority or PRIORITY[intent]})


def record(text: str, intent: str, meta: dict, system: str | None = SYSTEM_PROMPT, target: str | None = None) -> dict:
    messages = [{"role": "system", "content": system}] if system is not None else []
    messages.append({"role": "user", "content": text})
    messages.append({"role": "assistant", "content": target if target is not None else answer(intent)})
    return {"messages": messages, "metadata": meta}


def build_clean(source: Path) -> dict[str, list[dict]]:
    rng = random.Random(SEED)
    upstream = {"train": read_banking77(source / "train.csv"), "test": read_banking77(source / "test.csv")}
    kept: list[str] = []
    chosen: dict[str, list[tuple[dict, str]]] = {"train": [], "val": [], "test": []}
    for intent in INTENTS:
        test_rows = select(upstream["test"], intent, PER_SPLIT["test"], kept, rng)
        train_rows = select(upstream["train"], intent, PER_SPLIT["train"] + PER_SPLIT["val"], kept, rng)
        chosen["test"] += [(row, "banking77/test.csv") for row in test_rows]
        chosen["val"] += [(row, "banking77/train.csv") for row in train_rows[: PER_SPLIT["val"]]]
        chosen["train"] += [(row, "banking77/train.csv") for row in train_rows[PER_SPLIT["val"] :]]

    splits: dict[str, list[dict]] = {}
    ticket = customer = 0
    for split in ("train", "val", "test"):
        rows = chosen[split]
        rng.shuffle(rows)
        out = []
        left = 0  # tickets the current customer still has; customers never span splits
        for row, origin in rows:
            if left == 0:
                customer += 1
                left = rng.choice((1, 1, 1, 2, 2, 3))
            left -= 1
            ticket += 1
            meta = {
                "ticket_id": f"TCK-{ticket:05d}",
                "customer_id": f"CUST-{customer:04d}",
                "language": "en",
                "source": origin,
                "upstream_row": row["row"],
                "generated_by": "example_project/build_dataset.py",
            }
            out.append(record(row["text"], row["intent"], meta))
        splits[split] = out
    return splits


def _copy(rec: dict) -> dict:
    return json.loads(json.dumps(rec))


def _intent(rec: dict) -> str:
    return json.loads(rec["messages"][-1]["content"])["intent"]


def build_broken(clean: dict[str, list[dict]]) -> tuple[dict[str, list], list[dict]]:
    """The clean files with one planted defect each at fixed lines. Lines hold a dict,
    or a str for a line written as-is (the invalid JSON line)."""
    files: dict[str, list] = {split: [_copy(rec) for rec in recs] for split, recs in clean.items()}
    train, val, test = files["train"], files["val"], files["test"]
    planted: list[dict] = []

    def plant(split: str, line: int, defect: str, found_by: list[tuple[str, str]], description: str) -> None:
        planted.append(
            {
                "defect": defect,
                "file": f"{split}.jsonl",
                "line": line,
                "description": description,
                "found_by": [{"check": check, "rule": code} for check, code in found_by],
            }
        )

    # 1. The generator wrote an empty string as doubled quotes (as alpaca_libre v2 does).
    bad = json.dumps(train[6]).replace('"language": "en"', '"language": ""en""')
    train[6] = bad
    plant("train", 7, "invalid-json", [("schema", "SCH001")], 'The line holds `"language": ""en""`: doubled quotes, so the line is not JSON.')

    # 2. An export lost the user's message.
    train[14]["messages"] = [m for m in train[14]["messages"] if m["role"] != "user"]
    plant("train", 15, "missing-user-turn", [("schema", "SCH112")], "The example has a system prompt and an answer but no user message.")

    # 3. A labeller typed the answer as prose instead of JSON.
    intent = _intent(train[22])
    train[22]["messages"][-1]["content"] = f"Intent: {intent}, priority {PRIORITY[intent]}"
    plant("train", 23, "target-not-json", [("format", "FMT002"), ("labels", "LBL001")], "The answer is prose (`Intent: ..., priority ...`), not JSON.")

    # 4. The same ticket exported twice.
    train[39] = _copy(train[1])
    plant("train", 40, "exact-duplicate", [("duplicates", "DUP001")], "Line 40 is a byte-for-byte copy of line 2 (same ticket exported twice).")

    # 5. A customer's e-mail address left in the message (an obviously fake address).
    train[51]["messages"][1]["content"] += " You can reach me at jane.doe.fake@gmail.com."
    plant("train", 52, "email-address", [("pii", "PII001")], "The user message contains the e-mail address jane.doe.fake@gmail.com.")

    # 6. One example still carries the system prompt of an older export.
    train[59]["messages"][0]["content"] = STALE_SYSTEM_PROMPT
    plant(
        "train", 60, "rare-system-prompt", [("format", "FMT007")],
        "The example uses a stale system prompt that 1 of 480 examples share; ftdata.toml raises FMT007 to an error.",
    )

    # 7. A typo in the label.
    target = json.loads(train[74]["messages"][-1]["content"])
    target["intent"] = target["intent"].replace("_", "__", 1)
    train[74]["messages"][-1]["content"] = json.dumps(target)
    plant(
        "train", 75, "label-typo", [("format", "FMT003"), ("labels", "LBL002")],
        f"The intent is `{target['intent']}`, a typo: not in the answer schema's enum, nor in `labels`.",
    )

    # 8. A training example copied into the test split (train/test leakage).
    leaked = test[4]
    index = next(i for i in range(99, len(train)) if _intent(train[i]) == _intent(leaked))
    leaked["messages"][1]["content"] = train[index]["messages"][1]["content"]
    plant("test", 5, "train-test-leak", [("leakage", "LEAK001")], f"The test message is a copy of train line {index + 1} (same intent).")

    # 9. A customer whose tickets landed in both train and validation (group leakage).
    val[1]["metadata"]["customer_id"] = train[119]["metadata"]["customer_id"]
    plant(
        "val", 2, "group-leak", [("leakage", "LEAK003")],
        f"The validation ticket belongs to customer {train[119]['metadata']['customer_id']}, who also has train line 120.",
    )
    return files, planted


BROKEN_CONFIG = """\
# Settings for the deliberately broken copy. The nearest config wins key by key:
# what is set here applies to this folder on top of pyproject.toml's [tool.ftdata]
# (`rules` merge rule by rule), and every other key is inherited.

# A stale system prompt is a release blocker for this dataset: raise the rare-variant
# warning (FMT007) to an error.
rules = { FMT007 = "error" }
"""


def render(records: list) -> bytes:
    lines = [rec if isinstance(rec, str) else json.dumps(rec, ensure_ascii=False) for rec in records]
    return "".join(line + "\n" for line in lines).encode("utf-8")


def outputs(source: Path) -> dict[Path, bytes]:
    clean = build_clean(source)
    broken, planted = build_broken(clean)
    out: dict[Path, bytes] = {}
    for split, records in clean.items():
        out[Path("data/support") / f"{split}.jsonl"] = render(records)
    for split, records in broken.items():
        out[Path("data/support_broken") / f"{split}.jsonl"] = render(records)
    out[Path("planted.json")] = (json.dumps(planted, indent=2) + "\n").encode()
    out[Path("data/support_broken/ftdata.toml")] = BROKEN_CONFIG.encode()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="folder with Banking77 train.csv and test.csv")
    parser.add_argument("--out", type=Path, default=HERE, help="project folder to write data/ into")
    parser.add_argument("--check", action="store_true", help="compare with the files on disk instead of writing")
    args = parser.parse_args(argv)
    if not (args.source / "train.csv").is_file():
        print(f"Banking77 CSVs not found in {args.source}; pass --source", file=sys.stderr)
        return 2
    files = outputs(args.source)
    if args.check:
        stale = [str(path) for path, data in files.items() if not (args.out / path).is_file() or (args.out / path).read_bytes() != data]
        if stale:
            print("out of date (run build_dataset.py): " + ", ".join(stale), file=sys.stderr)
            return 1
        print(f"{len(files)} files up to date")
        return 0
    for path, data in files.items():
        target = args.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    print(f"wrote {len(files)} files under {args.out / 'data'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
