"""`share.py`: results shared between xdist workers are made once and never waited for in vain."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_ftdata import share
from pytest_ftdata.share import ShareDir


@pytest.fixture
def shared():
    directory, token = share.create()
    yield directory, token
    share.remove(directory)


def test_the_directory_is_private_and_removed(shared):
    directory, token = shared
    assert directory.stat().st_mode & 0o777 == 0o700
    assert ShareDir.open(str(directory), token) is not None
    share.remove(directory)
    assert not directory.exists()


def test_a_directory_of_another_run_or_machine_is_not_used(shared, tmp_path):
    directory, token = shared
    assert ShareDir.open(str(directory), "0" * 32) is None
    assert ShareDir.open(str(tmp_path / "absent"), token) is None
    assert ShareDir.open(None, None) is None


def test_a_result_is_computed_once_and_loaded_after(shared):
    directory, token = shared
    calls = []
    first = ShareDir.open(str(directory), token).get("a", lambda: calls.append(1) or {"found": [1, 2]})
    second = ShareDir.open(str(directory), token).get("a", lambda: calls.append(1) or {"found": []})
    assert first == second == {"found": [1, 2]}
    assert calls == [1]
    assert ShareDir.open(str(directory), token).get("b", lambda: "other") == "other"


def test_a_failed_computation_releases_its_claim(shared):
    directory, token = shared
    store = ShareDir.open(str(directory), token)

    def broken():
        raise ValueError("boom")

    with pytest.raises(ValueError):
        store.get("a", broken)
    assert not list(directory.glob("*.claim"))
    assert store.get("a", lambda: 3) == 3


def test_the_claim_of_a_dead_worker_is_taken_over(shared):
    directory, token = shared
    store = ShareDir.open(str(directory), token)
    store.get("probe", lambda: 0)  # learn the file stem of a name from what it writes
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stem = next(directory.glob("*.pickle")).stem
    (directory / f"{stem}.pickle").unlink()
    (directory / f"{stem}.claim").write_text(dead.stdout.strip())
    assert store.get("probe", lambda: "mine") == "mine"


def _claim_by_another_live_worker(directory: Path, store: ShareDir, name: str) -> Path:
    """Make `name` look claimed by a worker that is alive (this test's parent process)."""
    _, claim = store._paths(name)
    claim.write_text(str(os.getppid()))
    return claim


def test_a_waiting_worker_helps_with_unclaimed_work_then_takes_its_result(shared):
    """While another worker computes `a`, the waiting one computes `b`, which nobody has
    claimed; it returns `a` once it is published, and `b` is published for the others."""
    directory, token = shared
    store = ShareDir.open(str(directory), token)
    claim = _claim_by_another_live_worker(directory, store, "a")
    helped = []

    def help() -> bool:
        if helped:
            # The other worker finishes `a` meanwhile.
            store._publish(store._paths("a")[0], "a, from the other worker")
            claim.unlink()
            return False
        helped.append(store.offer("b", lambda: "b, computed while waiting"))
        return True

    assert store.get("a", lambda: "a, computed here", help=help) == "a, from the other worker"
    assert helped == [True]
    assert ShareDir.open(str(directory), token).get("b", lambda: "again") == "b, computed while waiting"


def test_offer_never_waits_and_never_computes_claimed_or_published_work(shared):
    directory, token = shared
    store = ShareDir.open(str(directory), token)
    _claim_by_another_live_worker(directory, store, "claimed")
    store.get("done", lambda: 1)
    calls = []
    assert store.offer("claimed", lambda: calls.append("claimed")) is False
    assert store.offer("done", lambda: calls.append("done")) is False
    assert calls == []

    def broken():
        raise ValueError("boom")

    assert store.offer("broken", broken) is True  # tried: whoever needs it computes and reports the error
    assert not store._paths("broken")[1].exists() and not store._paths("broken")[0].exists()


def _worker(directory: str, token: str, log: str) -> None:
    def compute():
        with open(log, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        import time

        time.sleep(0.5)
        return "result"

    assert ShareDir.open(directory, token).get("dataset", compute) == "result"


def test_concurrent_workers_compute_a_result_once(shared, tmp_path):
    directory, token = shared
    log = tmp_path / "computed.log"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_worker, args=(str(directory), token, str(log))) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    assert len(log.read_text().splitlines()) == 1


def test_two_workers_find_what_a_serial_run_finds(pytester: pytest.Pytester, run_modes, chat, write_jsonl, monkeypatch):
    """Every family, on a classification dataset with label, group_by and a subgroup:
    the JSON report of `-n 2` (workers sharing results) equals the serial one, and the
    run's shared directory is gone afterwards."""
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.setenv("TMPDIR", str(pytester.path / "tmp"))
    (pytester.path / "tmp").mkdir()
    pytester.makepyprojecttoml(
        '[tool.ftdata]\nlabel = "target"\ngroup_by = "/metadata/ticket"\n'
        '[tool.ftdata.subgroups]\nlanguage = "/metadata/language"\n'
    )
    intents = ["billing", "refund", "card_lost", "transfer"]
    for split, count in (("train", 120), ("val", 20), ("test", 20)):
        rows = []
        for i in range(count):
            intent = intents[i % 4]
            text = f"{split} question {i} about {intent.replace('_', ' ')} call 020 7946 {i:04d}" if i == 5 else f"{split} question {i} about {intent}"
            rows.append(chat(text, intent, metadata={"ticket": f"T{i % 150}", "language": "en" if i % 3 else "de"}))
        rows.append(rows[0])  # a duplicate
        write_jsonl(pytester.path / "data" / f"{split}.jsonl", rows)
    reports = {}
    for mode in ("serial", "xdist"):
        path = pytester.path / f"{mode}.json"
        result = run_modes[mode].subprocess(pytester, "--ftdata", "data", "-p", "no:cacheprovider", f"--ftdata-report=json:{path}", timeout=600)
        assert result.ret == 1, result.stdout.str()
        reports[mode] = json.loads(path.read_text())
    assert reports["serial"]["findings"], "the data should have findings"
    assert reports["xdist"] == reports["serial"]
    assert not list((pytester.path / "tmp").glob("ftdata-share-*"))
