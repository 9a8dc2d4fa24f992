"""Benchmark the `pii`, `policy` and `length` checks; compare with detect-secrets.

    python benchmarks/bench_pii.py                      # 1M examples in benchmarks/data/1m
    python benchmarks/bench_pii.py --examples 100000 --data benchmarks/data/100k

Prints four tables:

1. Throughput on the synthetic chat dataset of `generate.py` (generated when
   missing), next to a plain `for line in f: orjson.loads(line)` loop over the same
   files measured in the same run: the goal is pii + policy + length within 5x of it.
2. Recall of the pii check on the personal data and keys `generate.py` planted.
3. Secrets: this project's detectors against detect-secrets (when installed) on the
   same labelled lines: recall per kind, false positives on clean lines, time.
4. The token estimate against tiktoken's cl100k_base on the team's real datasets
   (only when tiktoken and that encoding are available offline).

Every timing is the best of --repeat runs, as other processes share the machine.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import string
import subprocess
import sys
import time
from pathlib import Path

import orjson
from tabulate import tabulate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_ftdata.detectors import find_sensitive  # noqa: E402
from pytest_ftdata.config import validate  # noqa: E402
from pytest_ftdata.engine import analyze_dataset  # noqa: E402

#: A realistic configuration: provenance, three banned patterns, token and size limits.
BENCH_CONFIG = {
    "required_fields": ["/metadata/source", "/metadata/generated_by"],
    "banned": [
        {"pattern": "(?i)as an ai language model", "message": "model boilerplate"},
        {"pattern": r"AcmeBot 1\.0", "message": "renamed to Acme Assistant"},
        {"pattern": r"(?i)\bour refund window is 14 days\b", "message": "stale policy", "roles": ["assistant"]},
    ],
    "max_chars": 20000,
    "max_tokens": 4096,
    "max_turn_chars": 8000,
    "max_turn_tokens": 2048,
    "tokenizer": "estimate",
}


#: "wall" or "cpu": what `best_of` measures. CPU time (the default) is steadier on a
#: machine other processes share; the ratios are computed from the same clock.
CLOCK = "cpu"


def best_of(repeat: int, run) -> tuple[float, object]:
    clock = time.process_time if CLOCK == "cpu" else time.perf_counter
    best, result = float("inf"), None
    for _ in range(repeat):
        start = clock()
        result = run()
        best = min(best, clock() - start)
    return best, result


def orjson_loop(files: list[Path]) -> int:
    count = 0
    for path in files:
        with open(path, "rb") as handle:
            for line in handle:
                orjson.loads(line)
                count += 1
    return count


def throughput(data: Path, repeat: int) -> list[list]:
    files = sorted(data.glob("*.jsonl"))
    config = validate(BENCH_CONFIG, "bench_pii", None)
    base, examples = best_of(repeat, lambda: orjson_loop(files))
    rows = [["orjson.loads loop", f"{base:.2f}", f"{examples / base:,.0f}", "1.00x"]]
    runs = [
        ("engine, no checks (read + Example view)", ()),
        ("pii", ("pii",)),
        ("policy", ("policy",)),
        ("length", ("length",)),
        ("pii + policy + length", ("pii", "policy", "length")),
    ]
    for label, families in runs:
        seconds, _ = best_of(repeat, lambda: analyze_dataset(data, files, config, data, families=families))
        rows.append([label, f"{seconds:.2f}", f"{examples / seconds:,.0f}", f"{seconds / base:.2f}x"])
    return rows


def orjson_loop_any(files: list[Path]) -> int:
    import gzip

    count = 0
    for path in files:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as handle:
            for line in handle:
                try:
                    orjson.loads(line)
                except orjson.JSONDecodeError:
                    pass
                count += 1
    return count


def throughput_real(repeat: int) -> list[list]:
    """The same ratio on the team's real datasets (texts with many digits cost more)."""
    shared = ROOT.parent / "shared" / "datasets"
    config = validate(BENCH_CONFIG, "bench_pii", None)
    rows = []
    for name in ["gsm8k_chat_foundry", "hh_rlhf_harmless", "alpaca_libre", "orca_dpo_foundry"]:
        files = sorted((shared / name).rglob("*.jsonl*"))
        if not files:
            continue
        base, lines = best_of(repeat, lambda: orjson_loop_any(files))
        engine, _ = best_of(repeat, lambda: analyze_dataset(files[0].parent, files, config, ROOT, families=()))
        checked, _ = best_of(
            repeat, lambda: analyze_dataset(files[0].parent, files, config, ROOT, families=("pii", "policy", "length"))
        )
        rows.append([name, lines, f"{engine / base:.2f}x", f"{checked / base:.2f}x", f"{(checked - engine) / lines * 1e6:.1f}"])
    return rows


def planted_recall(data: Path) -> list[list]:
    planted = json.loads((data / "planted.json").read_text())["pii"]
    files = sorted(data.glob("*.jsonl"))
    config = validate({}, "bench_pii", None)
    result = analyze_dataset(data, files, config, data, families=("pii",))
    found = set()
    for file_result in result.files.values():
        for finding in file_result.findings.get("pii", []):
            found.add((Path(finding.path).name, finding.line))
    truth = {(name, line) for name, line in planted}
    hits = len(truth & found)
    return [[len(truth), hits, f"{hits / len(truth):.3f}" if truth else "-", len(found - truth)]]


# -- secrets: ours vs detect-secrets -----------------------------------------------------------


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


ALNUM = string.ascii_letters + string.digits
UPPER_NUM = string.ascii_uppercase + string.digits


def _jwt(rng: random.Random) -> str:
    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    header = b64({"alg": "HS256", "typ": "JWT"})
    payload = b64({"sub": str(rng.randrange(10**9)), "name": _rand(rng, string.ascii_lowercase, 8), "iat": rng.randrange(10**9)})
    return f"{header}.{payload}.{_rand(rng, ALNUM + '-_', 43)}"


def _pem(rng: random.Random) -> str:
    body = "\n".join(_rand(rng, ALNUM + "+/", 64) for _ in range(6))
    return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"


SECRET_MAKERS = {
    "aws-access-key": lambda r: "AKIA" + _rand(r, UPPER_NUM, 16),
    "github-token (ghp_)": lambda r: "ghp_" + _rand(r, ALNUM, 36),
    "github-token (github_pat_)": lambda r: "github_pat_" + _rand(r, ALNUM, 22) + "_" + _rand(r, ALNUM, 59),
    "openai-key (legacy, T3BlbkFJ)": lambda r: "sk-" + _rand(r, ALNUM, 20) + "T3BlbkFJ" + _rand(r, ALNUM, 20),
    "openai-key (sk-proj-)": lambda r: "sk-proj-" + _rand(r, ALNUM + "-_", 48) + "T3BlbkFJ" + _rand(r, ALNUM + "-_", 48),
    "openai-key (sk-proj-, new)": lambda r: "sk-proj-" + _rand(r, ALNUM, 40),
    "slack-token": lambda r: f"xoxb-{r.randrange(10**11, 10**12)}-{r.randrange(10**12, 10**13)}-" + _rand(r, ALNUM, 24),
    "google-api-key": lambda r: "AIza" + _rand(r, ALNUM + "-_", 35),
    "stripe-key": lambda r: "sk_live_" + _rand(r, ALNUM, 24),
    "jwt": _jwt,
    "private-key": _pem,
    "url-credentials": lambda r: f"postgres://app:{_rand(r, ALNUM, 14)}@db.{_rand(r, string.ascii_lowercase, 6)}.com:5432/prod",
}
TEMPLATES = [
    "Here is my key {} can you check why it fails?",
    "config: token={} (do not share)",
    "I pasted {} into the settings page and nothing happened.",
]


def secret_corpus(samples: int, negatives: list[str], seed: int = 7) -> tuple[list[tuple[str, str | None]], int]:
    rng = random.Random(seed)
    lines: list[tuple[str, str | None]] = []
    for kind, make in SECRET_MAKERS.items():
        for _ in range(samples):
            lines.append((rng.choice(TEMPLATES).format(make(rng)), kind))
    lines.extend((text, None) for text in negatives)
    return lines, len(negatives)


def scan_with_ours(path: Path) -> set[int]:
    """Lines of a JSONL corpus file where pytest-ftdata's detectors find something."""
    flagged = set()
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            if find_sensitive(orjson.loads(raw)["text"]):
                flagged.add(number)
    return flagged


def detect_secrets_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("detect-secrets")
    except Exception:
        return None


def scan_with_detect_secrets(path: Path) -> set[int]:
    """Lines detect-secrets reports, scanning the file as `detect-secrets scan` does
    (all default plugins and filters). `core.scan.scan_file` yields every secret with
    its line; a `SecretsCollection` would merge equal values found on several lines."""
    from detect_secrets.core.scan import scan_file
    from detect_secrets.settings import default_settings

    with default_settings():
        return {secret.line_number for secret in scan_file(str(path))}


def compare_secrets(samples: int, negatives: list[str], repeat: int, workdir: Path) -> tuple[list[list], list[list], str | None]:
    """Both scanners read the same JSON Lines file, one labelled text per line."""
    corpus, n_negative = secret_corpus(samples, negatives)
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "secrets-corpus.jsonl"
    with open(path, "wb") as handle:
        for text, _ in corpus:
            handle.write(orjson.dumps({"text": text}) + b"\n")
    scanners = {"pytest-ftdata": scan_with_ours}
    version = detect_secrets_version()
    if version is not None:
        scanners[f"detect-secrets {version}"] = scan_with_detect_secrets
    results: dict[str, set[int]] = {}
    timings: dict[str, float] = {}
    for name, scan in scanners.items():
        timings[name], results[name] = best_of(repeat, lambda: scan(path))
    recall_rows = []
    for kind in SECRET_MAKERS:
        row = [kind]
        lines = [number for number, (_, label) in enumerate(corpus, 1) if label == kind]
        for name in scanners:
            row.append(f"{sum(line in results[name] for line in lines)}/{len(lines)}")
        recall_rows.append(row)
    speed_rows = []
    clean = [number for number, (_, label) in enumerate(corpus, 1) if label is None]
    for name in scanners:
        false_positives = sum(line in results[name] for line in clean)
        seconds = timings[name]
        speed_rows.append(
            [name, len(corpus), f"{false_positives}/{n_negative}", f"{seconds:.2f}", f"{seconds / len(corpus) * 1e6:.1f}"]
        )
    return [["kind", *scanners]] + recall_rows, speed_rows, version


def negative_lines(data: Path, count: int) -> list[str]:
    """Clean user turns of the benchmark data (lines not in planted.json's pii list)."""
    planted = {(name, line) for name, line in json.loads((data / "planted.json").read_text())["pii"]}
    out = []
    with open(data / "val.jsonl", "rb") as handle:
        for number, raw in enumerate(handle, 1):
            if ("val.jsonl", number) in planted:
                continue
            record = orjson.loads(raw)
            out.append(record["messages"][1]["content"])
            if len(out) >= count:
                break
    return out


def shared_negatives(count: int) -> list[str]:
    """Turn texts of the team's real datasets without personal data (GSM8K, Orca DPO)."""
    shared = ROOT.parent / "shared" / "datasets"
    out: list[str] = []
    for path in [shared / "gsm8k" / "raw" / "train.jsonl", shared / "orca_dpo_foundry" / "raw"]:
        files = sorted(path.rglob("*.jsonl")) if path.is_dir() else [path] if path.exists() else []
        for file in files:
            for raw in open(file, "rb"):
                record = orjson.loads(raw)
                for value in record.values():
                    if isinstance(value, str):
                        out.append(value)
                if len(out) >= count:
                    return out
    return out


# -- token estimate ------------------------------------------------------------------------------


def estimate_accuracy() -> list[list] | None:
    from pytest_ftdata.formats import detect_format, make_example
    from pytest_ftdata.io import read_jsonl
    from pytest_ftdata.tokens import _tiktoken, estimate_tokens

    counter, _ = _tiktoken("cl100k_base")
    if counter is None:
        return None
    shared = ROOT.parent / "shared" / "datasets"
    rows = []
    for name in ["gsm8k", "alpaca_libre", "hh_rlhf_harmless", "orca_dpo_foundry", "stock_toolcall_foundry", "openai_toy_chat"]:
        pairs = []
        for path in sorted((shared / name).rglob("*.jsonl*")):
            for line, record in read_jsonl(path):
                if not isinstance(record, dict):
                    continue
                fmt = detect_format(record)
                texts = [t.text for t in make_example(str(path), line, record, fmt).turns] if fmt else [
                    v for v in record.values() if isinstance(v, str)
                ]
                text = "\n".join(texts)
                if text:
                    pairs.append((estimate_tokens(text), counter.count(text)))
        if not pairs:
            continue
        errors = sorted(abs(e - t) / t for e, t in pairs if t >= 20)
        total_e, total_t = sum(e for e, _ in pairs), sum(t for _, t in pairs)
        rows.append(
            [name, len(pairs), f"{total_t:,}", f"{total_e / total_t:.3f}", f"{errors[len(errors) // 2]:.3f}",
             f"{errors[int(len(errors) * 0.95)]:.3f}"]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "data" / "1m")
    parser.add_argument("--examples", type=int, default=1_000_000, help="size to generate when --data is missing")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--secret-samples", type=int, default=200, help="labelled lines per secret kind")
    parser.add_argument("--negatives", type=int, default=20000, help="clean lines for the false-positive count")
    parser.add_argument("--skip-throughput", action="store_true", help="only the recall and comparison tables")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu", help="process CPU time or wall time")
    args = parser.parse_args()
    global CLOCK
    CLOCK = args.clock

    if not (args.data / "planted.json").exists():
        subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--examples", str(args.examples), "--out", str(args.data)],
            check=True,
        )
    if not args.skip_throughput:
        print(f"\n## Throughput on {args.data} (best of {args.repeat}, {CLOCK} time)\n")
        rows = throughput(args.data, args.repeat)
        print(tabulate(rows, headers=["run", "seconds", "examples/s", "vs orjson loop"], tablefmt="github"))

    real = throughput_real(args.repeat)
    if real:
        print(f"\n## Real datasets (../shared/datasets, {CLOCK} time)\n")
        print(tabulate(real, headers=["dataset", "lines", "engine, no checks", "pii + policy + length", "us/example for the three"], tablefmt="github"))

    print("\n## Planted personal data and keys (generate.py ground truth)\n")
    print(tabulate(planted_recall(args.data), headers=["planted", "found", "recall", "other findings"], tablefmt="github"))
    print("(other findings: copies of planted texts that generate.py made as duplicates, unlisted in planted.json)")

    negatives = negative_lines(args.data, args.negatives // 2) + shared_negatives(args.negatives // 2)
    recall, speed, version = compare_secrets(args.secret_samples, negatives, args.repeat, ROOT / "benchmarks" / "data" / "pii")
    print("\n## Secrets: recall per kind on the same labelled lines\n")
    print(tabulate(recall[1:], headers=recall[0], tablefmt="github"))
    print("\n## Secrets: speed and false positives on the same lines\n")
    print(tabulate(speed, headers=["scanner", "lines", "clean lines flagged", "seconds", "us/line"], tablefmt="github"))
    if version is None:
        print("(detect-secrets is not installed: `pip install detect-secrets` to compare)")

    rows = estimate_accuracy()
    print("\n## Token estimate vs tiktoken cl100k_base\n")
    if rows is None:
        print("skipped: tiktoken or its cl100k_base encoding is not available offline")
    else:
        print(tabulate(rows, headers=["dataset", "examples", "cl100k tokens", "estimate/real", "median error", "p95 error"], tablefmt="github"))


if __name__ == "__main__":
    main()
