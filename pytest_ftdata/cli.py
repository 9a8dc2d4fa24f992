"""The `ftdata` command (`python -m pytest_ftdata`): `ftdata why TEXT [PATH]`.

`why` prints the training examples nearest to a text, best first: location, split,
label, similarity and a short redacted excerpt (`pytest_ftdata.why`). The first query
of a dataset builds its index and caches it; later ones load it. Nothing here imports
pytest.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from .config import ConfigError
from .dataset import load


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ftdata", description="pytest-ftdata's command line.")
    commands = parser.add_subparsers(dest="command", required=True)
    why = commands.add_parser(
        "why",
        help="which training examples taught the model that? The examples nearest to a text.",
        description="Print the training examples nearest to TEXT (a model output, a prompt, or both), best first.",
    )
    why.add_argument("text", metavar="TEXT", help="the model output or prompt; '-' reads it from standard input")
    why.add_argument("path", metavar="PATH", nargs="?", default=".", help="a dataset directory, or a folder of them (default: .)")
    why.add_argument("-k", "--top", type=int, default=5, metavar="N", help="how many examples to show (default 5)")
    why.add_argument("--cache-dir", default=None, metavar="DIR", help="where the index is cached (default: .pytest_cache/ftdata/why of the project)")
    why.add_argument("--json", action="store_true", help="print JSON (one object with `results`) instead of text")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    text = sys.stdin.read() if args.text == "-" else args.text
    if args.top < 1:
        print("ftdata why: -k/--top must be at least 1.", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        datasets = load(args.path)
    except (ConfigError, ValueError, OSError) as exc:
        print(f"ftdata why: {exc}", file=sys.stderr)
        return 2
    if not datasets.datasets:
        print(f"ftdata why: no dataset files under {args.path}.", file=sys.stderr)
        return 2
    results = datasets.nearest(text, args.top, cache_dir=args.cache_dir)
    seconds = time.perf_counter() - started
    if args.json:
        print(json.dumps({"results": [n.to_dict() for n in results], "seconds": round(seconds, 3)}, ensure_ascii=False))
        return 0
    if not results:
        print("No training example shares a word with the text.")
        return 0
    print(f"Training examples nearest to the text, best first ({seconds:.2f} s):")
    for rank, found in enumerate(results, 1):
        label = f"  label {found.label!r}" if found.label is not None else ""
        print(f"{rank:>2}. {found.location}  {found.split or '(no split)'}{label}  similarity {found.similarity:.0%}")
        print(f"    {found.excerpt}")
    return 0
