"""Project-specific rules and checks: `rule()`, the `check` decorator and `CheckSet`.

A project declares its rule codes with `rule()` (the same keywords as the built-in
declarations) and turns a function, or a `FileFamily` / `DatasetFamily` subclass,
into a family the engine runs like a built-in one with `@check`. Every call into
project code is guarded: an exception becomes a CHK001 finding on its own item.
Nothing here imports pytest.
"""

from __future__ import annotations

import inspect
import re
import sys
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Literal

from . import findings as _findings
from .example import Example
from .families import DatasetFamily, FileFamily
from .findings import CUSTOM, FAMILIES, Finding, Rule, RuleExample
from .formats import Example as _View
from .redact import display

__all__ = ["CheckSet", "CheckSpec", "check", "rule", "spec_of"]

_CODE = re.compile(r"^[A-Z][A-Z0-9_-]*[0-9]$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
#: User rules record where they were declared, so re-running a notebook cell may redefine one.
_RULE_ORIGINS: dict[str, str] = {}


def _prefix(code: str) -> str:
    return re.match(r"[A-Z]*", code).group(0)


def rule(
    *,
    code: str,
    name: str,
    summary: str,
    severity: Literal["error", "warning"] = "error",
    family: str = CUSTOM,
    why: str = "",
    fix: str = "",
    settings: Iterable[str] = (),
    bad: RuleExample | None = None,
    good: RuleExample | None = None,
) -> Rule:
    """Declare a project rule, with the keywords of the built-in declarations:

        ACME001 = pytest_ftdata.rule(code="ACME001", name="refund-cites-policy",
                                     summary="A refund answer does not cite the policy id.")

    The code is yours (upper-case letters and digits, ending in a digit, with a prefix
    no built-in rule uses); the name is kebab-case. Findings of the rule made by a
    project check carry that check's name as their family (`check` in reports).
    """
    if not _CODE.match(code):
        raise ValueError(f"rule code {code!r} must be upper-case letters and digits ending in a digit, like ACME001")
    if not _NAME.match(name):
        raise ValueError(f"rule name {name!r} must be kebab-case, like refund-cites-policy")
    if severity not in ("error", "warning"):
        raise ValueError(f"rule severity must be 'error' or 'warning' (got {severity!r})")
    if family in FAMILIES:
        raise ValueError(f"rule {code} cannot join the built-in `{family}` family; leave `family` unset")
    # Prefixes of the plugin's own rules (built-in families and CHK) are reserved.
    reserved = {_prefix(r.code): r.family for c, r in _findings.RULES.items() if c not in _RULE_ORIGINS}
    if _prefix(code) in reserved:
        raise ValueError(
            f"rule code {code} uses the prefix {_prefix(code)} of the built-in `{reserved[_prefix(code)]}` family; "
            "choose a prefix of your own, like ACME"
        )
    for other in _findings.RULES.values():
        if other.name == name and other.code != code:
            raise ValueError(f"rule name {name!r} is already used by {other.code}")
    declared = Rule(
        code=code, name=name, family=family, severity=severity, summary=_findings.clean_text(summary),
        why=_findings.clean_text(why), fix=_findings.clean_text(fix), settings=tuple(settings), bad=bad, good=good,
    )
    origin = _caller_origin()
    existing = _findings.RULES.get(code)
    if existing is not None:
        # The same declaration again (a conftest imported twice) gives the same rule;
        # its family may since have been bound to the check that reports it.
        if (replace(existing, family=family) if family == CUSTOM else existing) == declared:
            return existing
        if _RULE_ORIGINS.get(code) != origin:
            raise ValueError(f"rule code {code} is already declared differently ({existing.name}: {existing.summary})")
    _findings.RULES[code] = declared
    _RULE_ORIGINS[code] = origin
    return declared


def project_rule_codes() -> frozenset[str]:
    """The codes of the rules projects declared in this process (`rule`), not the plugin's own."""
    return frozenset(_RULE_ORIGINS)


def _caller_origin() -> str:
    frame = sys._getframe(2)
    return f"{frame.f_globals.get('__file__') or frame.f_globals.get('__name__')}:{frame.f_code.co_name}"


# -- project-specific checks -------------------------------------------------------------------

_SPEC_ATTR = "__ftdata_check__"

CHECK_CRASHED = _findings.rule(
    code="CHK001", name="check-crashed", family=CUSTOM, severity="error",
    summary="A project-specific check raised an exception.",
    why="""A check registered with `@pytest_ftdata.check` or the `pytest_ftdata_checks` hook
    raised instead of returning findings. The finding names the example it was looking
    at and where in the check's code it failed; the check stopped there, so the rest
    of the file went unchecked by it.""",
    fix="""Fix the check so that it handles the example (a missing key, a target that is not
    JSON) and run again.""",
)


@dataclass(frozen=True)
class CheckSpec:
    """A project-specific check: its family name, its scope and what implements it."""

    name: str
    scope: Literal["file", "dataset"]
    target: Any
    rule: Rule | None = None


def check(
    name: str | Callable | type | None = None,
    *,
    rule: Rule | None = None,
    scope: Literal["file", "dataset"] = "file",
):
    """Register a project-specific check (in a `conftest.py` or a plugin module).

    On a function, the function receives each `Example` and returns or yields
    findings (`ex.finding(RULE, "message")`), messages (strings, reported under
    `rule`), or a bool (False reports `rule`'s summary). It runs once per file
    (`scope="file"`, items `data/train.jsonl::NAME`) or over a whole dataset
    (`scope="dataset"`, item `data/dataset::NAME`).

    On a `FileFamily` or `DatasetFamily` subclass, it registers the class (named by
    `name` or its `family` attribute); its `visit()` receives the same `Example`
    objects as function checks and user tests.

    Either way, an exception inside the check becomes a CHK001 finding on its own
    item instead of stopping the run.
    """
    if callable(name) and not isinstance(name, str):  # bare @check
        return check(None, rule=rule, scope=scope)(name)

    def mark(target):
        spec = make_spec(target, name, rule=rule, scope=scope)
        setattr(target, _SPEC_ATTR, spec)
        if rule is not None and rule.family == CUSTOM and _findings.RULES.get(rule.code) is rule:
            # The registry lists the rule under its check, so `rules = {NAME = "off"}` is a known selector.
            _findings.RULES[rule.code] = replace(rule, family=spec.name)
        return target

    return mark


def make_spec(target: Any, name: str | None = None, *, rule: Rule | None = None, scope: str = "file") -> CheckSpec:
    if scope not in ("file", "dataset"):
        raise ValueError(f"check scope must be 'file' or 'dataset' (got {scope!r})")
    if isinstance(target, type):
        if issubclass(target, FileFamily):
            scope = "file"
        elif issubclass(target, DatasetFamily):
            scope = "dataset"
        else:
            raise TypeError(f"{target.__name__} is neither a function nor a FileFamily/DatasetFamily subclass")
        name = name or getattr(target, "family", None)
    elif not callable(target):
        raise TypeError(f"a check must be a function or a check class, not {type(target).__name__}")
    name = name or target.__name__.replace("_", "-")
    if not _NAME.match(name):
        raise ValueError(f"check name {name!r} must be kebab-case, like refund-policy")
    if name in FAMILIES:
        raise ValueError(f"check name {name!r} is the name of a built-in check; choose another")
    if rule is not None and not isinstance(rule, Rule):
        raise TypeError(f"rule= takes a Rule made with pytest_ftdata.rule(), not {type(rule).__name__}")
    return CheckSpec(name, scope, target, rule)


def spec_of(obj: Any) -> CheckSpec | None:
    """The spec of an object marked with `@check`, or None (inherited marks do not count)."""
    if isinstance(obj, CheckSpec):
        return obj
    if isinstance(obj, type):
        return obj.__dict__.get(_SPEC_ATTR)
    if inspect.isfunction(obj):
        return getattr(obj, _SPEC_ATTR, None)
    return None


class CheckSet:
    """Project-specific checks, as the engine takes them (name -> check class)."""

    def __init__(self) -> None:
        self.file: dict[str, type[FileFamily]] = {}
        self.dataset: dict[str, type[DatasetFamily]] = {}
        self._specs: dict[str, CheckSpec] = {}

    def names(self) -> list[str]:
        return list(self._specs)

    def add(self, obj: Any, origin: str = "") -> None:
        spec = spec_of(obj)
        if spec is None:
            spec = make_spec(obj)
        existing = self._specs.get(spec.name)
        if existing is not None:
            if existing.target is spec.target:
                return
            where = f" (in {origin})" if origin else ""
            raise ValueError(f"two project checks are named {spec.name!r}{where}; rename one")
        self._specs[spec.name] = spec
        engine_class = _engine_class(spec)
        if spec.scope == "file":
            self.file[spec.name] = engine_class
        else:
            self.dataset[spec.name] = engine_class

    @classmethod
    def from_objects(cls, objects: Iterable[Any]) -> "CheckSet":
        checks = cls()
        for obj in objects:
            checks.add(obj)
        return checks


def _crash(family: str, exc: BaseException, path: str, line: int | None, when: str) -> Finding:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    detail = display(str(exc), 80)
    text = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    finding = CHECK_CRASHED.at(
        path, line, f"Check `{family}` raised {text}{where} {when}; it checked nothing after this, fix the check."
    )
    return replace(finding, check=family)


def _bind(family: str, produced: list[Finding]) -> list[Finding]:
    return [replace(f, check=family) if f.check == CUSTOM else f for f in produced]


def _engine_class(spec: CheckSpec) -> type:
    if isinstance(spec.target, type):
        return _guarded_class(spec)
    return _function_class(spec)


def _function_class(spec: CheckSpec) -> type:
    function, family, declared = spec.target, spec.name, spec.rule
    base = FileFamily if spec.scope == "file" else DatasetFamily

    class FunctionCheck(base):  # type: ignore[misc, valid-type]
        def __init__(self, ctx) -> None:
            super().__init__(ctx)
            self.found: list[Finding] = []
            self.crashed = False
            self.split = ctx.file.split if spec.scope == "file" else None

        def begin_file(self, file) -> None:
            super().begin_file(file)
            self.split = file.split

        def visit(self, example: _View) -> None:
            if self.crashed:
                return
            view = Example(example, self.split, self.config)
            try:
                self._collect(function(view), view)
            except Exception as exc:  # a broken project check fails its own item, not the run
                self.crashed = True
                self.found.append(_crash(family, exc, view.path, view.line, "on this example"))

        def _collect(self, produced: Any, view: Example) -> None:
            if produced is None or produced is True:
                return
            if produced is False:
                self.found.append(view.finding(_need_rule(), _need_rule().summary))
            elif isinstance(produced, str):
                self.found.append(view.finding(_need_rule(), produced))
            elif isinstance(produced, Finding):
                self.found.append(produced)
            elif isinstance(produced, Iterable):
                for item in produced:
                    if isinstance(item, Iterable) and not isinstance(item, str):
                        raise TypeError(f"check yielded a nested {type(item).__name__}")
                    self._collect(item, view)
            else:
                raise TypeError(f"a check returns findings, messages or a bool, not {type(produced).__name__}")

        def finish(self) -> list[Finding]:
            return _bind(family, self.found)

    def _need_rule() -> Rule:
        if declared is None:
            raise TypeError(f"check `{family}` reported a message or False but declares no rule; use @check(rule=...)")
        return declared

    FunctionCheck.family = family
    FunctionCheck.__name__ = FunctionCheck.__qualname__ = f"FunctionCheck[{family}]"
    return FunctionCheck


def _guarded_class(spec: CheckSpec) -> type:
    """`spec.target` with every call guarded (an exception becomes a CHK001 finding),
    seeing the same `Example` objects as function checks and user tests."""
    family = spec.name

    class Guarded(spec.target):  # type: ignore[misc, valid-type]
        def __init__(self, ctx) -> None:
            self._ftdata_crash: Finding | None = None
            self._ftdata_where = getattr(ctx, "path", "")
            file = getattr(ctx, "file", None)
            self._ftdata_split = file.split if file is not None else None
            try:
                super().__init__(ctx)
            except Exception as exc:
                self.ctx, self.config = ctx, ctx.config
                self._ftdata_crash = _crash(family, exc, self._ftdata_where, None, "while starting")

        def _guard(self, method, *args, line=None, when="") -> Any:
            if self._ftdata_crash is not None:
                return None
            try:
                return method(*args)
            except Exception as exc:
                path = getattr(args[0], "path", self._ftdata_where) if args else self._ftdata_where
                self._ftdata_crash = _crash(family, exc, path, line, when)
                return None

        def problem(self, problem) -> None:
            self._guard(super().problem, problem)

        def begin_file(self, file) -> None:
            self._ftdata_split = file.split
            self._guard(super().begin_file, file, when="at the start of the file")

        def visit(self, example) -> None:
            view = Example(example, self._ftdata_split, self.config)
            self._guard(super().visit, view, line=example.line, when="on this example")

        def end_file(self, file) -> None:
            self._guard(super().end_file, file, when="at the end of the file")

        def finish(self) -> list[Finding]:
            produced = self._guard(super().finish, when="while finishing") or []
            if self._ftdata_crash is not None:
                produced = [*produced, self._ftdata_crash]
            return _bind(family, list(produced))

        def summary(self) -> dict | None:
            if self._ftdata_crash is not None:
                return None
            return super().summary() if hasattr(super(), "summary") else None

    Guarded.family = family
    Guarded.__name__ = spec.target.__name__
    Guarded.__qualname__ = spec.target.__qualname__
    return Guarded
