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


PLANTED_KINDS = ("exact_duplicates", "near_duplicates", "leakage_exact", "leakage_near", "group_leakage", "pii")


def _split_sizes(examples: int) -> dict[str, int]:
    """80/10/10 into train, val and test."""
    sizes = {"train": examples * 8 // 10, "val": examples // 10}
    sizes["test"] = examples - sizes["train"] - sizes["val"]
    return sizes


def _plant_copy(rng: random.Random, split: str, line: int, train_rows: list, planted: dict, *, variants_keep_intent: bool):
    """Maybe make the example at `line` a copy of an earlier train example: an exact or
    near duplicate within train, or an exact, near or group leak from train into the
    other splits, recorded in `planted`. Returns (user, intent, ticket), each None where
    the fresh value stays; near copies keep the source's intent only if asked to."""
    roll = rng.random()
    if split == "train":
        if not train_rows or roll >= 0.010:
            return None, None, None
        kind, origin = ("exact_duplicates" if roll < 0.005 else "near_duplicates"), f"{split}.jsonl"
    else:
        if roll >= 0.005:
            return None, None, None
        kind = "leakage_exact" if roll < 0.002 else "leakage_near" if roll < 0.004 else "group_leakage"
        origin = "train.jsonl"
    source = rng.choice(train_rows)
    planted[kind].append([[origin, source[3]], [f"{split}.jsonl", line]])
    if kind in ("exact_duplicates", "leakage_exact"):
        return source[0], source[1], None
    if kind == "group_leakage":
        return None, None, source[2]
    user = _variant(rng, source[0]) if kind == "near_duplicates" else _typo(rng, source[0])
    return user, (source[1] if variants_keep_intent else None), None


def _with_planted_pii(rng: random.Random, user: str, index: int, split: str, line: int, planted: dict) -> str:
    """`user`, one time in a thousand with an e-mail address, a phone number or an API key added."""
    if rng.random() >= 0.001:
        return user
    planted["pii"].append([f"{split}.jsonl", line])
    return user + rng.choice(
        [
            f" Reach me at jane.doe{index}@gmail.com please.",
            f" Call me on +44 20 7946 {index % 10000:04d}.",
            " My key is sk-proj-" + "".join(rng.choices(string.ascii_letters + string.digits, k=40)),
        ]
    )


def generate(examples: int, out: Path, seed: int = 0, short_share: float = 0.0) -> dict:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    sizes = _split_sizes(examples)
    planted: dict[str, list] = {kind: [] for kind in PLANTED_KINDS}
    train_rows: list[tuple[str, str, str, int]] = []  # (user, intent, ticket, line) samples for copies
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
                user, copied_intent, copied_ticket = _plant_copy(
                    rng, split, line, train_rows, planted, variants_keep_intent=False
                )
                intent, ticket = copied_intent or intent, copied_ticket or ticket
                if user is None:
                    user = _text(rng, short=bool(short_share) and rng.random() < short_share)
                    user = _with_planted_pii(rng, user, index, split, line, planted)
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
    sizes = _split_sizes(examples)
    planted: dict[str, list] = {kind: [] for kind in PLANTED_KINDS}
    train_rows: list[tuple[str, str, str, int]] = []
    ticket_counter = 0
    for split in ("train", "val", "test"):
        with open(out / f"{split}.jsonl", "wb") as handle:
            for index in range(sizes[split]):
                line = index + 1
                utterance, intent = rng.choice(pool)
                ticket_counter += 1
                ticket = f"T{ticket_counter:08d}"
                user, copied_intent, copied_ticket = _plant_copy(
                    rng, split, line, train_rows, planted, variants_keep_intent=True
                )
                intent, ticket = copied_intent or intent, copied_ticket or ticket
                if user is None:
                    extra = " ".join(rng.choices(VOCAB, k=rng.randint(4, 12)))
                    user = f"{utterance} {extra}" if rng.random() < 0.5 else f"{extra} {utterance}"
                    user = _with_planted_pii(rng, user, index, split, line, planted)
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
