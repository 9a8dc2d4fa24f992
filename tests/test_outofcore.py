"""The out-of-core fingerprint join (`families/spill.py`) finds exactly what the in-memory index finds.

A tiny `fingerprint_memory_mb` forces the index out of core (0: from the first example;
a few MiB: in the middle of a file, so what the in-memory index had found goes into the
shards and the joins go on from there). The JSON reports must equal the in-memory run's,
serially and with `-n 2`. Without the `scale` extra the index drops its texts and
`duplicates` and `leakage` say so (DUP006, LEAK005) instead of passing or growing.
"""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_ftdata.config import FtdataConfig
from pytest_ftdata.engine import analyze_dataset, dataset_files
from pytest_ftdata.families.fingerprints import FingerprintMap

duckdb = pytest.importorskip("duckdb")

GENERATE = Path(__file__).resolve().parents[1] / "benchmarks" / "generate.py"
PYPROJECT = """\
[tool.ftdata]
{budget}label = "target:/intent"
group_by = "/metadata/ticket_id"

[tool.ftdata.subgroups]
language = "/metadata/language"
"""
#: The families that read the fingerprint index (the label model and the per-file families
#: do not, and would only make each run slower).
FINGERPRINT_ITEMS = ("-k", "duplicates or leakage or subgroups")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """20,000 examples of `generate_suite` with its planted duplicates, near-duplicates,
    leakage and group leakage (benchmarks/generate.py, loaded from its file)."""
    spec = importlib.util.spec_from_file_location("ftdata_bench_generate", GENERATE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folder = tmp_path_factory.mktemp("generated")
    source = module.CLINC150
    if not source.is_file():
        # Without ../shared (a fresh clone), a CLINC150-shaped pool of made-up utterances:
        # the generator adds 4-12 random words to each, so inputs stay distinct.
        words = ["book", "flight", "balance", "transfer", "weather", "alarm", "song", "card", "bill", "rate"]
        rng = random.Random(3)
        rows = [[" ".join(rng.choice(words) for _ in range(5)), f"intent_{i % 30}"] for i in range(3000)]
        source = folder / "clinc_like.json"
        source.write_text(json.dumps({"train": rows, "val": [], "test": []}))
    module.generate_suite(20_000, folder / "data", seed=3, source=source)
    (folder / "data" / "planted.json").replace(folder / "planted.json")
    return folder / "data"


def _report(pytester: pytest.Pytester, run_mode, data: Path, budget: int | None, pyproject: str = PYPROJECT) -> list:
    target = pytester.path / "data"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(data, target)
    line = "" if budget is None else f"fingerprint_memory_mb = {budget}\n"
    (pytester.path / "pyproject.toml").write_text(pyproject.format(budget=line))
    report = pytester.path / f"report-{budget}.json"
    result = run_mode(pytester, "--ftdata", "data", "-p", "no:cacheprovider", *FINGERPRINT_ITEMS,
                      f"--ftdata-report=json:{report}")
    assert result.ret in (0, 1), result.stdout.str()[-3000:]
    return json.loads(report.read_text())


def _assert_same(pytester, run_mode, data: Path, budgets, pyproject: str = PYPROJECT) -> dict:
    in_memory = _report(pytester, run_mode, data, None, pyproject)
    for budget in budgets:
        out_of_core = _report(pytester, run_mode, data, budget, pyproject)
        assert out_of_core["findings"] == in_memory["findings"], budget
        assert out_of_core == in_memory, budget
    return in_memory


def test_generated_data_out_of_core_equals_in_memory(pytester, run_mode_serial_and_xdist, generated):
    """serial and -n 2 (turning xdist off adds nothing here: the join runs in one process either way)."""
    found = _assert_same(pytester, run_mode_serial_and_xdist, generated, budgets=(0, 4))
    rules = {finding["rule"] for finding in found["findings"]}
    assert {"DUP002", "DUP003", "LEAK001", "LEAK002", "LEAK003"} <= rules


@pytest.mark.parametrize("name", ["clinc150", "openai_toy_chat", "stock_toolcall_foundry"])
def test_shared_datasets_out_of_core_equal_in_memory(pytester, run_mode_serial_and_xdist, shared_datasets, name,
                                                     tmp_path):
    source = shared_datasets / name / "raw"
    data = tmp_path / name
    if name == "clinc150":
        full = json.loads((source / "data_full.json").read_text(encoding="utf-8"))
        data.mkdir()
        for split, keys in (("train", ("train", "oos_train")), ("val", ("val", "oos_val")), ("test", ("test", "oos_test"))):
            lines = [
                json.dumps({"messages": [{"role": "user", "content": text}, {"role": "assistant", "content": label}]})
                for key in keys for text, label in full[key]
            ]
            (data / f"{split}.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        pyproject = '[tool.ftdata]\n{budget}label = "target"\n'
    else:
        shutil.copytree(source, data, ignore=shutil.ignore_patterns("LICENSE"))
        pyproject = "[tool.ftdata]\n{budget}"
    found = _assert_same(pytester, run_mode_serial_and_xdist, data, budgets=(0,), pyproject=pyproject)
    if name == "clinc150":  # SOURCE.md: 5 exact cross-split overlaps, 4 of them with conflicting intents
        assert sum(finding["rule"] in ("LEAK001", "LEAK004") for finding in found["findings"]) == 5


def test_without_the_extra_the_search_says_so_and_drops_the_texts(pytester, monkeypatch, generated):
    monkeypatch.setitem(sys.modules, "duckdb", None)  # `import duckdb` raises ImportError
    shutil.copytree(generated, pytester.path / "data")
    (pytester.path / "pyproject.toml").write_text(PYPROJECT.format(budget="fingerprint_memory_mb = 1\n"))
    report = pytester.path / "report.json"
    result = pytester.runpytest("--ftdata", "data", "-p", "no:cacheprovider", *FINGERPRINT_ITEMS,
                                f"--ftdata-report=json:{report}")
    assert result.ret == 1
    findings = json.loads(report.read_text())["findings"]
    over = {finding["rule"]: finding for finding in findings if finding["check"] in ("duplicates", "leakage")}
    assert set(over) == {"DUP006", "LEAK005"}
    for finding in over.values():
        assert finding["severity"] == "error" and finding["path"] == "data/"
        assert "pip install 'pytest-ftdata[scale]'" in finding["message"]
        assert "fingerprint_memory_mb = 1" in finding["message"] and "duckdb" in finding["message"]

    # and the index stays bounded: no text, no dict, no near-duplicate index
    config = FtdataConfig(fingerprint_memory_mb=1, group_by="/metadata/ticket_id")
    result = analyze_dataset(generated, dataset_files(generated), config, generated.parent,
                             families=["duplicates", "leakage"])
    assert [f.rule for f in result.findings["duplicates"]] == ["DUP006"]
    index = _last_index
    assert index is not None and index.dropped and len(index.near) == 0 and not index._first


_last_index = None


@pytest.fixture(autouse=True)
def _keep_index(monkeypatch):
    """Remember the last fingerprint index made, to look inside it."""
    original = FingerprintMap.combiner.__func__

    def combiner(cls, ctx):
        global _last_index
        _last_index = original(cls, ctx)
        return _last_index

    monkeypatch.setattr(FingerprintMap, "combiner", classmethod(combiner))


def test_the_shards_are_removed_after_the_join(generated, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    config = FtdataConfig(fingerprint_memory_mb=2, group_by="/metadata/ticket_id")
    result = analyze_dataset(generated, dataset_files(generated), config, generated.parent,
                             families=["duplicates", "leakage"])
    assert result.findings["duplicates"] and _last_index.spill is not None
    assert list(tmp_path.iterdir()) == []


WORDS = ["reset", "my", "password", "card", "blocked", "please", "help", "the", "app", "crashes"]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10_000),
    count=st.integers(2, 120),
    budget=st.sampled_from([0, 1]),
    files=st.integers(1, 3),
)
def test_candidates_and_groups_equal_the_in_memory_index(tmp_path_factory, seed, count, budget, files):
    """Random texts over a few words (so anchor keys are shared, keys fill past the
    `MAX_BUCKET` cap, copies and near copies abound), in one to three files; with a budget
    of 1 MiB the index switches after the first file or within it."""
    rng = random.Random(seed)
    folder = tmp_path_factory.mktemp("prop")
    texts = [" ".join(rng.choices(WORDS, k=rng.randint(2, 9))) for _ in range(count)]
    texts += [text[:-1] + "x" for text in rng.sample(texts, min(len(texts), 10))]
    # Padding examples (short, distinct) make a budget of 1 MiB pass within the files.
    texts += [f"pad {number}" for number in range(6_000 if budget else 0)]
    rng.shuffle(texts)
    names = ["train.jsonl", "val.jsonl", "test.jsonl"][:files]
    for number, name in enumerate(names):
        part = texts[number::files]
        lines = [json.dumps({"messages": [{"role": "user", "content": t}, {"role": "assistant", "content": "ok"}]})
                 for t in part]
        (folder / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")

    def analysed(mb: int):
        config = FtdataConfig(fingerprint_memory_mb=mb, near_duplicate_threshold=80)
        analyze_dataset(folder, dataset_files(folder), config, folder.parent, families=["duplicates"])
        index = _last_index
        index.analyse()
        return index

    in_memory = analysed(1 << 20)
    assert in_memory.spill is None
    out = analysed(budget)
    assert out.spill is not None
    assert out.identical == in_memory.identical
    assert list(out.identical) == list(in_memory.identical)
    assert out.near_pairs == in_memory.near_pairs
    for first in list(in_memory.identical)[:20] + [a for a, _, _ in in_memory.near_pairs[:20]]:
        assert out.input_text(first) == in_memory.input_text(first)


def test_kept_shards_give_the_same_groups_to_another_engine(generated, tmp_path, monkeypatch):
    """docs/performance.md, "Joining the shards elsewhere": the SQL there, over the kept shards alone."""
    monkeypatch.setenv("FTDATA_FINGERPRINT_SHARDS", str(tmp_path / "kept"))
    config = FtdataConfig(fingerprint_memory_mb=0)
    analyze_dataset(generated, dataset_files(generated), config, generated.parent, families=["duplicates"])
    shards = tmp_path / "kept" / "fingerprints-0"
    assert sorted(path.name.split("-")[0] for path in shards.iterdir()) == sorted(
        path.name.split("-")[0] for path in shards.iterdir() if path.suffix == ".parquet"
    )
    assert list(shards.glob("inputs-*.parquet")) and not list(shards.glob("copies-*.parquet"))
    rows = duckdb.connect().execute(
        f"SELECT list(eid ORDER BY eid) FROM read_parquet('{shards}/inputs-*.parquet') GROUP BY nkey HAVING count(*) > 1"
    ).fetchall()
    assert sorted(row[0] for row in rows) == sorted(_last_index.identical.values())
    assert len(rows) > 50
