"""Results shared between the xdist workers of one run: each analysis is made once.

Without this, every worker that runs an item of a dataset analyses the whole dataset
(every file, every family), so `-n 2` reads everything twice and is slower than a
serial run. With it, the controller makes one private directory for the run (mode
0700, removed at the end) and tells the workers its path; a worker then analyses only
what its item needs (one file's file-level families, or the dataset-level families
over the whole dataset), and publishes the result there, so the other workers load it
instead of computing it again.

Protocol, per result (`ShareDir.get(name, compute)`):

- the result is a pickle, written to a temporary name and renamed into place, so a
  reader never sees half of one;
- before computing, a worker creates `<name>.claim` exclusively (`O_EXCL`), holding its
  pid; a worker that finds a claim waits for the result, and computes it itself when
  the claimant is no longer alive, so a crashed worker cannot make another wait forever;
- a worker holds at most one claim and waits for nothing while it holds it (an analysis
  never asks for another shared result), so two workers can never wait for each other;
- while it waits, a worker helps (`get(..., help=...)`): the caller's `help` computes one
  result nobody has claimed yet (`offer`, which never waits) and the worker looks again,
  so a worker whose next item is being analysed elsewhere analyses what another item of
  the run will need instead of sitting idle; it waits only when nothing is left unclaimed;
- a failed computation releases its claim before the error propagates: the waiter then
  computes (and reports) the same error itself.

The directory is checked against a token the controller passes with its path, so a
worker on another machine (`--tx ssh=...`), where the path does not exist or is not
this run's, simply computes everything itself, as before. The pickles are read only
from a directory this run created and only this user can write. Nothing here imports
pytest.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")

TOKEN_NAME = "run-token"
#: Seconds between looks at a result another worker is computing (grows to the maximum).
POLL_START, POLL_MAX = 0.02, 0.5


def create() -> tuple[Path, str]:
    """A new private directory for one run, and the token that proves it is this run's."""
    directory = Path(tempfile.mkdtemp(prefix="ftdata-share-"))
    token = os.urandom(16).hex()
    (directory / TOKEN_NAME).write_text(token)
    return directory, token


def remove(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ShareDir:
    """The run's shared results, as one worker sees them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def open(cls, path: str | None, token: str | None) -> "ShareDir | None":
        """The directory the controller made, or None when it is not reachable from here."""
        if not path or not token:
            return None
        directory = Path(path)
        try:
            if (directory / TOKEN_NAME).read_text() != token:
                return None
        except OSError:
            return None
        return cls(directory)

    def _paths(self, name: str) -> tuple[Path, Path]:
        stem = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return self.directory / f"{stem}.pickle", self.directory / f"{stem}.claim"

    def offer(self, name: str, compute: Callable[[], object]) -> bool:
        """Compute and publish the result called `name` if nobody has made or claimed it;
        never waits. True when it was computed here."""
        path, claim = self._paths(name)
        if path.exists() or claim.exists():
            return False
        try:
            descriptor = os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except OSError:
            return False  # claimed meanwhile, or the directory is gone
        try:
            self._run_claimed(descriptor, path, claim, compute)
        except Exception:
            pass  # whoever needs it computes it again and reports the error in its own item
        return True

    def get(self, name: str, compute: Callable[[], T], help: Callable[[], bool] | None = None) -> T:
        """The result called `name`: loaded when another worker made it, else computed
        here (and published), or waited for while another worker computes it. While it
        waits, `help()` is called first; it returns whether it did some work (then the
        result is looked for again at once) or found nothing to do (then this waits)."""
        path, claim = self._paths(name)
        pause = POLL_START
        while True:
            found = self._load(path)
            if found is not None:
                return found[0]
            try:
                descriptor = os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:
                if not self._claimant_alive(claim):
                    try:
                        claim.unlink()
                    except OSError:
                        pass
                    continue
                if help is not None and help():
                    continue
                time.sleep(pause)
                pause = min(pause * 2, POLL_MAX)
                continue
            except OSError:
                return compute()  # the directory is gone: work alone
            return self._run_claimed(descriptor, path, claim, compute)

    def _run_claimed(self, descriptor: int, path: Path, claim: Path, compute: Callable[[], T]) -> T:
        """Under the claim just created (`descriptor`): name this process in it, compute,
        publish and release; a failure releases the claim before it propagates."""
        with os.fdopen(descriptor, "w") as handle:
            handle.write(str(os.getpid()))
        try:
            value = compute()
        except BaseException:
            self._release(claim)
            raise
        self._publish(path, value)
        self._release(claim)
        return value

    def _load(self, path: Path) -> tuple | None:
        try:
            with open(path, "rb") as handle:
                return (pickle.load(handle),)
        except FileNotFoundError:
            return None
        except Exception:  # unreadable: treat as absent, and compute it here
            return None

    def _publish(self, path: Path, value: object) -> None:
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except Exception:  # a result that cannot be shared is computed again by whoever needs it
            try:
                temporary.unlink()
            except OSError:
                pass

    @staticmethod
    def _claimant_alive(claim: Path) -> bool:
        try:
            text = claim.read_text()
        except FileNotFoundError:
            return False
        except OSError:
            return True
        if not text.strip():
            # Being written right now, unless its writer died between creating and writing it.
            try:
                return time.time() - claim.stat().st_mtime < 10
            except OSError:
                return False
        try:
            return _alive(int(text))
        except ValueError:
            return False

    @staticmethod
    def _release(claim: Path) -> None:
        try:
            claim.unlink()
        except OSError:
            pass
