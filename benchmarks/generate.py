"""Generate a synthetic support-ticket chat dataset with planted defects, for benchmarks.

    python benchmarks/generate.py --examples 1000000 --out benchmarks/data/1m

writes train.jsonl / val.jsonl / test.jsonl (80/10/10) in OpenAI chat format, about
400 bytes per line, and `planted.json`: the ground truth of what was planted, as
lists of [path, line] pairs, so benchmarks can measure recall.

Planted (shares of the train split unless noted):
- exact duplicates of a train example (0.5%);
- near-duplicates: one character changed, case or whitespace changed (0.5%);
- validation/test examples copied from train, exactly or with one typo (0.2% each);
- ticket ids shared across splits (group leakage, 0.1%);
- e-mail addresses, phone numbers and API keys in user turns (0.1%).

Deterministic for a given --seed. Texts are random word sequences from a fixed
vocabulary, so accidental near-duplicates are vanishingly rare.
"""

from __future__ import annotations

import argparse
import json
import random
import string
from pathlib import Path

import orjson

INTENTS = [
    "billing", "refund", "card_arrival", "card_lost", "transfer_failed", "top_up_failed", "pin_blocked",
    "account_closure", "exchange_rate", "cash_withdrawal", "identity_check", "direct_debit",
]
PRIORITIES = ["low", "medium", "high"]
LANGUAGES = ["en"] * 8 + ["de", "fr"]
SOURCES = ["email", "chat", "phone"]
SYSTEM = "You classify support tickets. Answer with JSON: category and priority."

_rng_words = random.Random(12345)
VOCAB = sorted(
    {"".join(_rng_words.choice(string.ascii_lowercase) for _ in range(_rng_words.randint(3, 9))) for _ in range(4000)}
)


def _text(rng: random.Random, short: bool = False) -> str:
    # Short inputs (3-6 words) are where MinHash-style near-duplicate search fails.
    words = rng.choices(VOCAB, k=rng.randint(3, 6) if short else rng.randint(10, 24))
    return " ".join(words).capitalize() + "?"


def _typo(rng: random.Random, text: str) -> str:
    index = rng.randrange(1, len(text) - 1)
    replacement = rng.choice([c for c in string.ascii_lowercase if c != text[index]])
    return text[:index] + replacement + text[index + 1 :]


def _variant(rng: random.Random, text: str) -> str:
    kind = rng.choice(("typo", "case", "space"))
    if kind == "typo":
        return _typo(rng, text)
    if kind == "case":
        return text.upper()
    return "  " + text.replace(" ", "  ", 2) + " \n"


def _record(user: str, intent: str, priority: str, ticket: str, customer: str, rng: random.Random) -> dict:
    return {
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": user},
            {"role": "assistant", "content": json.dumps({"category": intent, "priority": priority})},
        ],
        "metadata": {
            "ticket_id": ticket,
            "customer_id": customer,
            "language": rng.choice(LANGUAGES),
            "source": rng.choice(SOURCES),
            "generated_by": "benchmarks/generate.py",
        },
    }


def generate(examples: int, out: Path, seed: int = 0, short_share: float = 0.0) -> dict:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    sizes = {"train": examples * 8 // 10, "val": examples // 10}
    sizes["test"] = examples - sizes["train"] - sizes["val"]
    planted: dict[str, list] = {
        "exact_duplicates": [], "near_duplicates": [], "leakage_exact": [], "leakage_near": [],
        "group_leakage": [], "pii": [],
    }
    train_rows: list[tuple[str, str, str, str]] = []  # (user, intent, ticket, line) samples for copies
    ticket_counter = 0

    def new_ticket() -> str:
        nonlocal ticket_counter
        ticket_counter += 1
        return f"T{ticket_counter:08d}"

    for split in ("train", "val", "test"):
        path = out / f"{split}.jsonl"
        with open(path, "wb") as handle:
            for index in range(sizes[split]):
                line = index + 1
                intent = rng.choice(INTENTS)
                priority = rng.choice(PRIORITIES)
                ticket = new_ticket()
                customer = f"C{rng.randrange(examples // 3 + 1):07d}"
                roll = rng.random()
                user = None
                if split == "train" and train_rows and roll < 0.005:
                    source = rng.choice(train_rows)
                    user, intent = source[0], source[1]
                    planted["exact_duplicates"].append([[f"{split}.jsonl", source[3]], [f"{split}.jsonl", line]])
                elif split == "train" and train_rows and roll < 0.010:
                    source = rng.choice(train_rows)
                    user = _variant(rng, source[0])
                    planted["near_duplicates"].append([[f"{split}.jsonl", source[3]], [f"{split}.jsonl", line]])
                elif split != "train" and roll < 0.002:
                    source = rng.choice(train_rows)
                    user, intent = source[0], source[1]
                    planted["leakage_exact"].append([["train.jsonl", source[3]], [f"{split}.jsonl", line]])
                elif split != "train" and roll < 0.004:
                    source = rng.choice(train_rows)
                    user = _typo(rng, source[0])
                    planted["leakage_near"].append([["train.jsonl", source[3]], [f"{split}.jsonl", line]])
                elif split != "train" and roll < 0.005:
                    source = rng.choice(train_rows)
                    ticket = source[2]
                    planted["group_leakage"].append([["train.jsonl", source[3]], [f"{split}.jsonl", line]])
                if user is None:
                    user = _text(rng, short=bool(short_share) and rng.random() < short_share)
                    if rng.random() < 0.001:
                        user += rng.choice(
                            [
                                f" Reach me at jane.doe{index}@gmail.com please.",
                                f" Call me on +44 20 7946 {index % 10000:04d}.",
                                " My key is sk-proj-" + "".join(rng.choices(string.ascii_letters + string.digits, k=40)),
                            ]
                        )
                        planted["pii"].append([f"{split}.jsonl", line])
                if split == "train" and len(train_rows) < 50_000 and rng.random() < 0.2:
                    train_rows.append((user, intent, ticket, line))
                handle.write(orjson.dumps(_record(user, intent, priority, ticket, customer, rng)) + b"\n")
    (out / "planted.json").write_text(json.dumps(planted))
    return planted


CLINC150 = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "clinc150" / "raw" / "data_full.json"
SUITE_LANGUAGES = ["en"] * 6 + ["de", "fr", "es", "it"]
SUITE_SYSTEM = "You route banking and travel requests. Answer with JSON: intent, confidence and a short reply."


def clinc_utterances(path: Path = CLINC150) -> list[tuple[str, str]]:
    """(utterance, intent) pairs of CLINC150's in-scope train/val/test lists (oos left out)."""
    data = json.loads(path.read_text())
    return [(text, intent) for key in ("train", "val", "test") for text, intent in data[key]]


def generate_suite(examples: int, out: Path, seed: int = 0, source: Path = CLINC150) -> dict:
    """Realistic chat data for the whole-suite benchmark (`bench_suite.py`).

    Inputs are CLINC150 utterances with 4-12 extra words, so they are distinct and of
    natural shape; targets are JSON with the intent, a confidence and a reply of
    random words (no two alike); `metadata` holds a ticket id (`group_by`) and a
    language (a subgroup). 80/10/10 train/val/test, with the same planted faults as
    `generate()` (duplicates, near-duplicates, leakage, group leakage, personal data)
    listed in `planted.json`.
    """
    rng = random.Random(seed)
    pool = clinc_utterances(source)
    out.mkdir(parents=True, exist_ok=True)
    sizes = {"train": examples * 8 // 10, "val": examples // 10}
    sizes["test"] = examples - sizes["train"] - sizes["val"]
    planted: dict[str, list] = {
        "exact_duplicates": [], "near_duplicates": [], "leakage_exact": [], "leakage_near": [],
        "group_leakage": [], "pii": [],
    }
    train_rows: list[tuple[str, str, str, int]] = []
    ticket_counter = 0
    for split in ("train", "val", "test"):
        with open(out / f"{split}.jsonl", "wb") as handle:
            for index in range(sizes[split]):
                line = index + 1
                utterance, intent = rng.choice(pool)
                ticket_counter += 1
                ticket = f"T{ticket_counter:08d}"
                roll = rng.random()
                user = None
                if split == "train" and train_rows and roll < 0.005:
                    source_row = rng.choice(train_rows)
                    user, intent = source_row[0], source_row[1]
                    planted["exact_duplicates"].append([[f"{split}.jsonl", source_row[3]], [f"{split}.jsonl", line]])
                elif split == "train" and train_rows and roll < 0.010:
                    source_row = rng.choice(train_rows)
                    user, intent = _variant(rng, source_row[0]), source_row[1]
                    planted["near_duplicates"].append([[f"{split}.jsonl", source_row[3]], [f"{split}.jsonl", line]])
                elif split != "train" and roll < 0.002:
                    source_row = rng.choice(train_rows)
                    user, intent = source_row[0], source_row[1]
                    planted["leakage_exact"].append([["train.jsonl", source_row[3]], [f"{split}.jsonl", line]])
                elif split != "train" and roll < 0.004:
                    source_row = rng.choice(train_rows)
                    user, intent = _typo(rng, source_row[0]), source_row[1]
                    planted["leakage_near"].append([["train.jsonl", source_row[3]], [f"{split}.jsonl", line]])
                elif split != "train" and roll < 0.005:
                    source_row = rng.choice(train_rows)
                    ticket = source_row[2]
                    planted["group_leakage"].append([["train.jsonl", source_row[3]], [f"{split}.jsonl", line]])
                if user is None:
                    extra = " ".join(rng.choices(VOCAB, k=rng.randint(4, 12)))
                    user = f"{utterance} {extra}" if rng.random() < 0.5 else f"{extra} {utterance}"
                    if rng.random() < 0.001:
                        user += rng.choice(
                            [
                                f" Reach me at jane.doe{index}@gmail.com please.",
                                f" Call me on +44 20 7946 {index % 10000:04d}.",
                                " My key is sk-proj-" + "".join(rng.choices(string.ascii_letters + string.digits, k=40)),
                            ]
                        )
                        planted["pii"].append([f"{split}.jsonl", line])
                if split == "train" and len(train_rows) < 50_000 and rng.random() < 0.2:
                    train_rows.append((user, intent, ticket, line))
                reply = " ".join(rng.choices(VOCAB, k=rng.randint(6, 20))).capitalize() + "."
                target = json.dumps({"intent": intent, "confidence": round(rng.uniform(0.5, 1.0), 2), "reply": reply})
                record = {
                    "messages": [
                        {"role": "system", "content": SUITE_SYSTEM},
                        {"role": "user", "content": user},
                        {"role": "assistant", "content": target},
                    ],
                    "metadata": {"ticket_id": ticket, "language": rng.choice(SUITE_LANGUAGES), "source": rng.choice(SOURCES)},
                }
                handle.write(orjson.dumps(record) + b"\n")
    (out / "planted.json").write_text(json.dumps(planted))
    return planted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--short-share", type=float, default=0.0, help="share of 3-6 word inputs (default 0)")
    parser.add_argument("--suite", action="store_true", help="CLINC150-based data of bench_suite.py instead")
    args = parser.parse_args()
    if args.suite:
        planted = generate_suite(args.examples, args.out, args.seed)
    else:
        planted = generate(args.examples, args.out, args.seed, args.short_share)
    print(f"wrote {args.examples} examples to {args.out}: " + ", ".join(f"{k} {len(v)}" for k, v in planted.items()))


if __name__ == "__main__":
    main()
