"""Benchmark the suspect-label model (pytest_ftdata/label_model.py) on real data.

    python3 benchmarks/bench_labels.py                          # every section
    python3 benchmarks/bench_labels.py --sections recall --seeds 0 1 2
    python3 benchmarks/bench_labels.py --sections scale --examples 200000
    python3 benchmarks/bench_labels.py --sections suite --examples 200000   # the whole suite, with and without
    python3 benchmarks/bench_labels.py --sections datalab       # needs pip install -e '.[bench]'
    python3 benchmarks/bench_labels.py --sections precision --sample 30

Sections (each measured run is a fresh subprocess; wall time, CPU time and peak RSS
come from `os.wait4` on it, so a run's memory is its own and includes interpreter
start-up, imports and reading the data):

- `recall`: 60 train labels of CLINC150 (train + oos_train, 15,100 examples; only
  in-scope examples are relabelled, always to another in-scope intent; `oos` stays a
  label like the others) and of Banking77 train (10,003) are changed to another
  label, per seed. Reports the share of the 60 flagged and the share of train flagged.
- `datalab`: the whole CLINC150 file (23,700 examples, its own train/validation/test
  splits) with 60 + 20 + 30 planted flips. pytest-ftdata against cleanlab's Datalab
  used as its text tutorial does: out-of-sample `pred_probs` from
  `cross_val_predict(LogisticRegression(max_iter=400), embeddings, cv=5)` and
  `find_issues(pred_probs=..., features=embeddings)` with the default issue types.
  The embeddings are TF-IDF (the same n-grams as ours) reduced by TruncatedSVD to 300
  dimensions, L2-normalized: this machine cannot download a sentence-transformer, and
  LSA is the standard embedding without one. A second Datalab run reuses those inputs
  (cached under benchmarks/data/) with `issue_types={"label": {}}`, to show the cost
  of the label check alone.
- `scale`: N synthetic examples, 150 labels (CLINC150 utterances, then copies with
  filler words added, one dropped or one random word inserted), written once as JSON
  Lines under benchmarks/data/; a parse-only run (orjson over the file, keeping texts
  and labels) against a run that parses and then calls `find_suspect_labels`.
- `pairs`: the confused label pairs of CLINC150 (in-scope intents, all splits, no
  planted flips), and the rank of the pairs the dataset is known for.
- `precision`: a seeded sample of the flags that are NOT planted, for reading by
  hand (text, given label, suggested label, the model's probabilities, the most
  similar example of the suggested label).

Timings are wall time on a machine that may run other jobs; `cpu` beside them is
less sensitive. Exit status 1: a target was missed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATASETS = ROOT.parent / "shared" / "datasets"
DATA = HERE / "data"
# This checkout's pytest_ftdata, not another one installed in the environment.
sys.path.insert(0, str(ROOT))
TARGETS = {"recall": 0.85, "flagged_share": 0.02, "speedup": 10.0, "memory_ratio": 0.2}

FILLERS_BEFORE = ["hey", "hi", "please", "so", "ok", "um", "can you", "could you", "i need to know",
                  "quick question", "hello there", "excuse me", "i want to", "tell me"]
FILLERS_AFTER = ["please", "now", "thanks", "thank you", "asap", "today", "right now", "if you can",
                 "for me", "real quick", "again", "ok"]


# -- data -----------------------------------------------------------------------------------


def clinc(datasets: Path, splits=("train", "validation", "test"), oos: bool = True):
    """(texts, labels, splits) of CLINC150's data_full.json."""
    raw = json.loads((datasets / "clinc150" / "raw" / "data_full.json").read_text())
    keys = {"train": ("train", "oos_train"), "validation": ("val", "oos_val"), "test": ("test", "oos_test")}
    texts, labels, split_of = [], [], []
    for split in splits:
        for key in keys[split][: 2 if oos else 1]:
            for text, label in raw[key]:
                texts.append(text)
                labels.append(label)
                split_of.append(split)
    return texts, labels, split_of


def banking(datasets: Path, splits=("train",)):
    """(texts, labels, splits) of Banking77's CSVs (CRLF line ends; csv handles them)."""
    texts, labels, split_of = [], [], []
    for split in splits:
        name = {"train": "train", "test": "test"}[split]
        with open(datasets / "banking77" / "raw" / f"{name}.csv", newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                texts.append(row["text"])
                labels.append(row["category"])
                split_of.append(split)
    return texts, labels, split_of


def plant(labels, split_of, counts: dict[str, int], seed: int, keep=("oos",)):
    """Relabel `counts[split]` examples of each split to another label (never from or
    to a label in `keep`). Returns (noisy labels, {index: true label})."""
    rng = random.Random(seed)
    names = sorted(set(labels) - set(keep))
    noisy, planted = list(labels), {}
    for split, count in counts.items():
        candidates = [i for i, (lbl, s) in enumerate(zip(labels, split_of)) if s == split and lbl not in keep]
        for i in rng.sample(candidates, count):
            noisy[i] = rng.choice([n for n in names if n != labels[i]])
            planted[i] = labels[i]
    return noisy, planted


def synthetic(n: int, datasets: Path, seed: int = 0):
    """n examples over CLINC150's 150 intents: its 22,500 in-scope utterances, then copies
    of random ones with filler words added, a word dropped or a random word inserted."""
    texts, labels, _ = clinc(datasets, oos=False)
    base = list(zip(texts, labels))
    vocabulary = sorted({w for t in texts for w in t.split()})
    rng = random.Random(seed)
    out = []
    for i in range(n):
        text, label = base[i] if i < len(base) else rng.choice(base)
        words = text.split()
        if i >= len(base):
            if rng.random() < 0.5:
                words = rng.choice(FILLERS_BEFORE).split() + words
            if rng.random() < 0.5:
                words = words + rng.choice(FILLERS_AFTER).split()
            if len(words) > 3 and rng.random() < 0.3:
                del words[rng.randrange(len(words))]
            if rng.random() < 0.3:
                words.insert(rng.randrange(len(words) + 1), rng.choice(vocabulary))
        out.append((" ".join(words), label))
    return out


def synthetic_file(n: int, datasets: Path) -> Path:
    path = DATA / f"labels-{n}.jsonl"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            for text, label in synthetic(n, datasets):
                handle.write(json.dumps({"text": text, "label": label}) + "\n")
    return path


# -- children -------------------------------------------------------------------------------


def _load(spec: dict):
    datasets = Path(spec["datasets"])
    if spec["dataset"] == "clinc":
        texts, labels, split_of = clinc(datasets, tuple(spec["splits"]), spec.get("oos", True))
    else:
        texts, labels, split_of = banking(datasets, tuple(spec["splits"]))
    noisy, planted = plant(labels, split_of, spec["plant"], spec["seed"])
    return texts, noisy, split_of, planted


def _scores(flagged: set[int], planted: dict[int, str], split_of: list[str]) -> dict:
    out = {}
    for split in sorted(set(split_of)):
        in_split = [i for i in planted if split_of[i] == split]
        total = sum(1 for s in split_of if s == split)
        flags = sum(1 for i in flagged if split_of[i] == split)
        out[split] = {"planted": len(in_split), "found": sum(1 for i in in_split if i in flagged),
                      "flagged": flags, "examples": total, "flagged_share": flags / total}
    out["all"] = {"planted": len(planted), "found": len(flagged & set(planted)), "flagged": len(flagged),
                  "examples": len(split_of), "flagged_share": len(flagged) / len(split_of)}
    return out


def child_ours(spec: dict) -> dict:
    from pytest_ftdata.label_model import find_suspect_labels

    texts, noisy, split_of, planted = _load(spec)
    started = time.perf_counter()
    result = find_suspect_labels(texts, noisy, split_of, seed=spec.get("model_seed", 0))
    seconds = time.perf_counter() - started
    flagged = {s.index for s in result.suspects}
    return {"fit_s": seconds, "scores": _scores(flagged, planted, split_of), "diagnostics": result.diagnostics,
            "suspects": [[s.index, s.given, s.suggested, s.confidence, s.given_probability, list(s.related)]
                         for s in result.suspects]}


def _datalab_inputs(texts, labels, cache: Path | None):
    """Embeddings (TF-IDF -> TruncatedSVD 300, unit length) and 5-fold out-of-sample
    pred_probs of LogisticRegression(max_iter=400), as cleanlab's text tutorial."""
    import numpy as np

    if cache is not None and cache.exists():
        saved = np.load(cache)
        return saved["features"], saved["pred_probs"], {}
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    from sklearn.pipeline import make_union
    from sklearn.preprocessing import normalize

    seconds = {}
    clock = time.perf_counter()
    vectors = make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True),
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
    ).fit_transform(texts)
    features = normalize(TruncatedSVD(300, random_state=0).fit_transform(vectors)).astype(np.float32)
    seconds["embeddings"] = time.perf_counter() - clock
    clock = time.perf_counter()
    pred_probs = cross_val_predict(LogisticRegression(max_iter=400), features, labels, cv=5, method="predict_proba")
    seconds["pred_probs"] = time.perf_counter() - clock
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, features=features, pred_probs=pred_probs)
    return features, pred_probs, seconds


def child_datalab(spec: dict) -> dict:
    from cleanlab import Datalab

    texts, noisy, split_of, planted = _load(spec)
    cache = Path(spec["cache"]) if spec.get("cache") else None
    started = time.perf_counter()
    features, pred_probs, seconds = _datalab_inputs(texts, noisy, cache)
    clock = time.perf_counter()
    lab = Datalab({"text": texts, "label": noisy}, label_name="label", verbosity=0)
    issue_types = {"label": {}} if spec.get("label_only") else None
    lab.find_issues(pred_probs=pred_probs, features=features, issue_types=issue_types)
    seconds["find_issues"] = time.perf_counter() - clock
    issues = lab.get_issues("label")
    flagged = {int(i) for i in issues.index[issues["is_label_issue"]]}
    return {"fit_s": time.perf_counter() - started, "seconds": seconds,
            "scores": _scores(flagged, planted, split_of),
            "issue_types": sorted(lab.get_issue_summary()["issue_type"])}


def child_scale(spec: dict) -> dict:
    import orjson

    started = time.perf_counter()
    texts, labels = [], []
    with open(spec["path"], "rb") as handle:
        for line in handle:
            record = orjson.loads(line)
            texts.append(record["text"])
            labels.append(record["label"])
    parse = time.perf_counter() - started
    out = {"parse_s": parse, "examples": len(texts)}
    if spec["fit"]:
        from pytest_ftdata.label_model import find_suspect_labels

        clock = time.perf_counter()
        result = find_suspect_labels(texts, labels, ["train"] * len(texts))
        out.update(fit_s=time.perf_counter() - clock, suspects=len(result.suspects), diagnostics=result.diagnostics)
    return out


CHILDREN = {"ours": child_ours, "datalab": child_datalab, "scale": child_scale}


def run_child(kind: str, spec: dict) -> dict:
    """Run one child in a fresh interpreter; its JSON result plus wall, cpu and peak RSS."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, json.dumps(spec)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.stderr.write(err.read().decode("utf-8", "replace"))
            raise SystemExit(f"child {kind} failed")
        result = json.loads(out.read().decode().strip().splitlines()[-1])
    return {**result, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024}


# -- sections -------------------------------------------------------------------------------


def _load_line() -> str:
    try:
        return "load average " + " ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return ""


def section_recall(args) -> bool:
    ok = True
    print(f"\n## recall: 60 planted flips in train ({_load_line()})\n")
    print("| dataset | seed | found | flagged (share of train) | fit s | wall s | cpu s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for dataset in ("clinc", "banking"):
        for seed in args.seeds:
            spec = {"datasets": str(args.datasets), "dataset": dataset, "splits": ["train"],
                    "plant": {"train": 60}, "seed": seed}
            run = run_child("ours", spec)
            s = run["scores"]["train"]
            share = s["flagged_share"]
            ok &= s["found"] / 60 >= TARGETS["recall"] and share <= TARGETS["flagged_share"]
            print(f"| {dataset} | {seed} | {s['found']}/60 | {s['flagged']} ({share:.2%}) | {run['fit_s']:.1f} "
                  f"| {run['wall_s']:.1f} | {run['cpu_s']:.1f} | {run['peak_rss_mb']:.0f} |", flush=True)
    return ok


def section_datalab(args) -> bool:
    spec = {"datasets": str(args.datasets), "dataset": "clinc", "splits": ["train", "validation", "test"],
            "plant": {"train": 60, "validation": 20, "test": 30}, "seed": 0}
    print(f"\n## pytest-ftdata against Datalab: CLINC150, 23,700 examples, 110 planted ({_load_line()})\n")
    cache = DATA / "datalab-inputs-clinc-seed0.npz"
    cache.unlink(missing_ok=True)  # the full Datalab run must compute its inputs itself
    runs = {
        "pytest-ftdata": run_child("ours", spec),
        "Datalab (tutorial: embeddings + LR + find_issues, default issue types)": run_child(
            "datalab", {**spec, "cache": str(cache)}),
        "Datalab find_issues(label only) on the cached inputs": run_child(
            "datalab", {**spec, "cache": str(cache), "label_only": True}),
    }
    print("| run | wall s | cpu s | peak RSS MB | found train/val/test | flagged train/val/test |")
    print("|---|---|---|---|---|---|")
    for name, run in runs.items():
        s = run["scores"]
        found = ", ".join(f"{s[k]['found']}/{s[k]['planted']}" for k in ("train", "validation", "test"))
        flagged = " / ".join(f"{s[k]['flagged']} ({s[k]['flagged_share']:.1%})" for k in ("train", "validation", "test"))
        print(f"| {name} | {run['wall_s']:.1f} | {run['cpu_s']:.1f} | {run['peak_rss_mb']:.0f} | {found} | {flagged} |")
    full = runs["Datalab (tutorial: embeddings + LR + find_issues, default issue types)"]
    ours = runs["pytest-ftdata"]
    print(f"\nDatalab stages (s): {json.dumps({k: round(v, 1) for k, v in full['seconds'].items()})}; "
          f"issue types: {', '.join(full['issue_types'])}")
    speedup = full["wall_s"] / ours["wall_s"]
    memory = ours["peak_rss_mb"] / full["peak_rss_mb"]
    recall_ours = ours["scores"]["all"]["found"]
    recall_theirs = max(run["scores"]["all"]["found"] for name, run in runs.items() if name != "pytest-ftdata")
    print(f"speed-up {speedup:.1f}x (target {TARGETS['speedup']:.0f}x), memory {memory:.2f} of Datalab's "
          f"(target {TARGETS['memory_ratio']}), found {recall_ours} against {recall_theirs} of 110")
    return speedup >= TARGETS["speedup"] and memory <= TARGETS["memory_ratio"] and recall_ours >= recall_theirs


def section_scale(args) -> bool:
    path = synthetic_file(args.examples, args.datasets)
    print(f"\n## {args.examples:,} synthetic examples, 150 labels ({_load_line()})\n")
    parse = run_child("scale", {"path": str(path), "fit": False})
    fit = run_child("scale", {"path": str(path), "fit": True})
    print("| run | wall s | cpu s | peak RSS MB | parse s | fit s |")
    print("|---|---|---|---|---|---|")
    print(f"| parse only | {parse['wall_s']:.1f} | {parse['cpu_s']:.1f} | {parse['peak_rss_mb']:.0f} | {parse['parse_s']:.1f} | |")
    print(f"| parse + find_suspect_labels | {fit['wall_s']:.1f} | {fit['cpu_s']:.1f} | {fit['peak_rss_mb']:.0f} "
          f"| {fit['parse_s']:.1f} | {fit['fit_s']:.1f} |")
    print(f"\ndiagnostics: {json.dumps(fit['diagnostics'])}; suspects: {fit['suspects']}")
    return fit["peak_rss_mb"] <= 700


def suite_dataset(n: int, datasets: Path) -> Path:
    """The `scale` examples as a chat dataset directory, 80/10/10 into train, validation and
    test, with `label = "target"` configured: what a user's classification data looks like."""
    root = DATA / f"suite-{n}"
    if not (root / "test.jsonl").exists():
        root.mkdir(parents=True, exist_ok=True)
        rows = synthetic(n, datasets)
        random.Random(1).shuffle(rows)
        cuts = {"train": rows[: n * 8 // 10], "validation": rows[n * 8 // 10 : n * 9 // 10], "test": rows[n * 9 // 10 :]}
        for split, part in cuts.items():
            with open(root / f"{split}.jsonl", "w", encoding="utf-8") as handle:
                for text, label in part:
                    handle.write(json.dumps({"messages": [{"role": "user", "content": text},
                                                          {"role": "assistant", "content": label}]}) + "\n")
    return root


def run_suite(root: Path, suspect_labels: bool) -> dict:
    """`pytest --ftdata` over `root` in a fresh interpreter (reports off, no cache, no other
    plugin), with the suspect-label check on or off: wall, cpu and peak RSS."""
    project = Path(tempfile.mkdtemp(prefix="ftdata-suite-"))
    (project / "pyproject.toml").write_text(
        f'[tool.ftdata]\nlabel = "target"\nsuspect_labels = {str(suspect_labels).lower()}\n', encoding="utf-8"
    )
    command = [sys.executable, "-m", "pytest", "--ftdata", str(root), "-q", "-p", "no:cacheprovider",
               "-p", "pytest_ftdata.plugin", "--rootdir", str(project), "-c", str(project / "pyproject.toml")]
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=project)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        tail = out.read().decode("utf-8", "replace").strip().splitlines()[-1:]
    shutil.rmtree(project, ignore_errors=True)
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024,
            "exit": os.waitstatus_to_exitcode(status), "last_line": tail[0] if tail else ""}


def section_suite(args) -> bool:
    """Issue 11's target: the whole default suite with suspect-label at most 3x the suite
    without it, peak RSS under 1 GB, measured one after the other in this run."""
    root = suite_dataset(args.examples, args.datasets)
    print(f"\n## the whole default suite on {args.examples:,} classification examples, 150 labels ({_load_line()})\n")
    print("| run | wall s | cpu s | peak RSS MB | pytest's last line |")
    print("|---|---|---|---|---|")
    runs = {}
    for name, on in (("suite, suspect_labels = false", False), ("suite, suspect_labels = true", True)):
        runs[on] = run = run_suite(root, on)
        print(f"| {name} | {run['wall_s']:.1f} | {run['cpu_s']:.1f} | {run['peak_rss_mb']:.0f} | {run['last_line']} |")
    ratio = runs[True]["wall_s"] / runs[False]["wall_s"]
    cpu_ratio = runs[True]["cpu_s"] / runs[False]["cpu_s"]
    print(f"\nwith / without suspect-label: {ratio:.2f}x wall, {cpu_ratio:.2f}x cpu (target at most 3x; peak RSS under 1 GB)")
    return ratio <= 3 and runs[True]["peak_rss_mb"] < 1024


def section_pairs(args) -> bool:
    from pytest_ftdata.label_model import find_suspect_labels

    texts, labels, split_of = clinc(args.datasets, oos=False)
    result = find_suspect_labels(texts, labels, split_of, max_pairs=100)
    print("\n## confused label pairs: CLINC150 in-scope, train + validation + test, no planted flips\n")
    print("| rank | a | b | count | a->b | b->a |")
    print("|---|---|---|---|---|---|")
    for rank, pair in enumerate(result.confused_pairs[:20], 1):
        print(f"| {rank} | {pair.a} | {pair.b} | {pair.count} | {pair.a_to_b} | {pair.b_to_a} |")
    ranks = {(p.a, p.b): r for r, p in enumerate(result.confused_pairs, 1)}
    for pair in (("calories", "nutrition_info"), ("restaurant_suggestion", "travel_suggestion")):
        print(f"\n{pair[0]} / {pair[1]}: rank {ranks.get(pair, 'not among the first 100')}"
              + (f", count {result.confused_pairs[ranks[pair] - 1].count}" if pair in ranks else ""))
    return True


def section_precision(args) -> bool:
    for dataset in ("clinc", "banking"):
        spec = {"datasets": str(args.datasets), "dataset": dataset, "splits": ["train"],
                "plant": {"train": 60}, "seed": 0}
        texts, noisy, split_of, planted = _load(spec)
        run = run_child("ours", spec)
        others = [s for s in run["suspects"] if s[0] not in planted]
        sample = sorted(random.Random(0).sample(others, min(args.sample, len(others))))
        print(f"\n## {dataset}: {len(others)} flags that were not planted; a sample of {len(sample)}\n")
        print("| index | text | given | suggested | p(suggested) | p(given) | most similar example of the suggested label |")
        print("|---|---|---|---|---|---|---|")
        for index, given, suggested, confidence, given_p, related in sample:
            near = texts[related[0]] if related else ""
            print(f"| {index} | {texts[index]!r} | {given} | {suggested} | {confidence:.2f} | {given_p:.3f} | {near!r} |")
    return True


SECTIONS = {"recall": section_recall, "datalab": section_datalab, "scale": section_scale,
            "suite": section_suite, "pairs": section_pairs, "precision": section_precision}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default="recall,datalab,scale,suite,pairs,precision",
                        help="comma-separated: " + ", ".join(SECTIONS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="planting seeds for `recall`")
    parser.add_argument("--examples", type=int, default=200_000, help="size of the `scale` dataset")
    parser.add_argument("--sample", type=int, default=30, help="flags read per dataset in `precision`")
    parser.add_argument("--datasets", type=Path, default=DATASETS, help="the shared datasets folder")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "SPEC"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, spec = args.child
        print(json.dumps(CHILDREN[kind](json.loads(spec))))
        return 0
    if not (args.datasets / "clinc150").is_dir():
        parser.error(f"{args.datasets} holds no clinc150/: pass --datasets")
    ok = True
    for name in args.sections.split(","):
        ok &= SECTIONS[name.strip()](args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
