"""JSON Schemas named by the config (`record_schema`, `target_schema`): local, bounded, never fatal.

A schema is user input too, and often one copied from elsewhere. Loading one must
never reach the network, never hang and never crash a run:

- References resolve only inside the schema file and files in its directory (or
  below), through a `referencing` registry whose retriever refuses every other URI.
  jsonschema's own default would fetch `http://...` references (it does, with a
  deprecation warning), so a validator is always built with this registry.
- At load time every `$ref` is resolved once and the schema is run on a few probe
  values, so a dangling pointer, a missing file or a reference cycle (`{"$ref": "#"}`)
  is reported as an unusable schema before any record is checked.
- `pattern` and `patternProperties` run on `patterns.BoundedPattern` (a time budget
  instead of unbounded backtracking, and a bound on what a pattern compiles to), and
  the `regex` format checks a value of the data with the same compile bound.
- Anything that still goes wrong while validating (a reference only reachable from
  some instances, a pattern over its budget) raises `SchemaUnusable`, which the
  families turn into their one "unusable schema" finding and then stop using it.

Error messages quote instance values; they are redacted whole and cut by
`redact.display` before they reach a finding.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import jsonschema
from jsonschema import ValidationError
from jsonschema_specifications import REGISTRY as SPECIFICATIONS
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, PointerToNowhere, Unresolvable, Unretrievable
from referencing.jsonschema import DRAFT202012

from .patterns import BoundedPattern, PatternError, PatternTooSlow, compile_error
from .redact import display
from .safeio import UnreadableFile, read_small

#: Errors reported per validated value; the rest are not collected.
MAX_ERRORS = 3
#: Values every loaded schema is tried on: a pure reference cycle fails on all of them.
_PROBES = (None, {}, [], "", 0)
#: Nesting followed when collecting a schema's references.
_MAX_WALK_DEPTH = 200


class SchemaUnusable(ValueError):
    """A schema that cannot be used, with the reason phrased for the user."""


def _load_json(path: Path) -> Any:
    try:
        data = read_small(path)
    except UnreadableFile as exc:
        raise SchemaUnusable(f"{path} {exc.reason}") from None
    try:
        return json.loads(data)
    except RecursionError:
        raise SchemaUnusable(f"{path} is nested too deeply to read") from None
    except ValueError as exc:
        raise SchemaUnusable(f"{path} is not valid JSON: {exc}") from None


def _local_retriever(base_dir: Path):
    """A `referencing` retriever that reads files under `base_dir` and nothing else."""
    root = Path(os.path.realpath(base_dir))

    def retrieve(uri: str) -> Resource:
        parts = urllib.parse.urlsplit(uri)
        if parts.scheme == "file" and parts.netloc not in ("", "localhost"):
            # `file://host/share/...` is a network share on Windows.
            raise SchemaUnusable(f"names a file on another host ({parts.netloc}), which is never read")
        if parts.scheme == "file":
            candidate = Path(urllib.request.url2pathname(parts.path))
        elif parts.scheme == "" and not parts.netloc:
            candidate = base_dir / urllib.request.url2pathname(parts.path)
        else:  # never the network: http, https, urn, ...
            # Raised as the reason, not as `NoSuchResource`: `referencing` keeps it as the
            # cause of its `Unretrievable`, where `_unresolvable` finds it.
            raise SchemaUnusable(
                f"is remote ({parts.scheme or parts.netloc}:): only the schema file and files in its directory are read, "
                "never the network"
            )
        resolved = Path(os.path.realpath(candidate))
        if resolved != root and root not in resolved.parents:
            raise SchemaUnusable("names a file outside the schema's directory, which is never read")
        try:
            contents = _load_json(resolved)
        except SchemaUnusable as exc:
            raise SchemaUnusable(f"names a file that cannot be used: {exc}") from None
        return Resource.from_contents(contents, default_specification=DRAFT202012)

    return retrieve


def _pattern_keywords():
    cache: dict[str, BoundedPattern] = {}

    def bounded(pattern: str) -> BoundedPattern:
        found = cache.get(pattern)
        if found is None:
            try:
                found = cache[pattern] = BoundedPattern(pattern)
            except PatternError as exc:
                raise SchemaUnusable(str(exc)) from None
        return found

    def pattern(validator, patrn, instance, schema):
        if validator.is_type(instance, "string") and not bounded(patrn).search(instance):
            yield ValidationError(f"{instance!r} does not match {patrn!r}")

    def pattern_properties(validator, properties, instance, schema):
        if not validator.is_type(instance, "object"):
            return
        for patrn, subschema in properties.items():
            for key, value in instance.items():
                if bounded(patrn).search(key):
                    yield from validator.descend(value, subschema, path=key, schema_path=patrn)

    return {"pattern": pattern, "patternProperties": pattern_properties}


def _patterns(schema: Any) -> Iterator[str]:
    """Every `pattern` value and `patternProperties` key of a schema (for a check at load
    time: a pattern is otherwise compiled only when a record reaches its subschema)."""
    stack = [(schema, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > _MAX_WALK_DEPTH:
            return
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                yield node["pattern"]
            if isinstance(node.get("patternProperties"), dict):
                yield from (key for key in node["patternProperties"] if isinstance(key, str))
            stack.extend((value, depth + 1) for value in node.values())
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)


def _references(schema: Any) -> Iterator[str]:
    """Every `$ref` of a schema outside subschemas that set their own base (`$id`)."""
    stack = [(schema, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > _MAX_WALK_DEPTH:
            raise SchemaUnusable(f"is nested more than {_MAX_WALK_DEPTH} levels deep")
        if isinstance(node, dict):
            if depth and ("$id" in node or "id" in node):
                continue
            ref = node.get("$ref")
            if isinstance(ref, str):
                yield ref
            stack.extend((value, depth + 1) for value in node.values())
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)


class SchemaValidator:
    """A loaded schema: `errors(value)` gives at most `MAX_ERRORS` readable reasons."""

    def __init__(self, path: Path, validator) -> None:
        self.path = path
        self._validator = validator

    def errors(self, instance: Any, limit: int = MAX_ERRORS) -> list[str]:
        """Why `instance` fails the schema (empty when it passes); `SchemaUnusable` when
        the schema itself fails while validating."""
        try:
            found = []
            for error in self._validator.iter_errors(instance):
                found.append(error)
                if len(found) >= 50:
                    break
        except PatternTooSlow as exc:
            raise SchemaUnusable(f"its pattern {exc.reason}") from None
        except Unresolvable as exc:
            raise SchemaUnusable(f"the reference {_unresolvable(exc)}") from None
        except RecursionError:
            raise SchemaUnusable("validation recursed without end (a reference cycle)") from None
        except SchemaUnusable:
            raise
        except Exception as exc:  # jsonschema on an odd schema: never the run's end
            raise SchemaUnusable(f"validation failed with {type(exc).__name__}") from None
        found.sort(key=lambda error: error.json_path)
        return [f"at `{display(error.json_path, 80)}`: {display(error.message, 160)}" for error in found[:limit]]


def _unresolvable(exc: Unresolvable) -> str:
    """Why a reference failed, as the end of a sentence starting with "the reference"."""
    ref = getattr(exc, "ref", "") or "?"
    if isinstance(exc, PointerToNowhere):
        return f"`{ref}` points to nothing in the schema"
    cause, hops = exc.__cause__, 0
    while cause is not None and not isinstance(cause, SchemaUnusable) and hops < 5:
        cause, hops = cause.__cause__, hops + 1
    if isinstance(cause, SchemaUnusable):  # the retriever's reason (remote, outside, unreadable)
        return f"`{ref}` {display(str(cause), 200)}"
    if isinstance(exc, (NoSuchResource, Unretrievable)):
        return (
            f"`{ref}` names a document that is missing, outside the schema's directory or remote "
            "(only the schema file and files in its directory are read, never the network)"
        )
    return f"`{ref}` cannot be resolved"


def load_json_schema(path: str | os.PathLike) -> SchemaValidator:
    """The validator of the schema file at `path`; `SchemaUnusable` with a user message otherwise."""
    path = Path(path)
    schema = _load_json(path)
    if not isinstance(schema, (dict, bool)):
        raise SchemaUnusable(f"{path} is not a JSON Schema (an object or a boolean)")
    base = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        base.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise SchemaUnusable(f"{path} is not a valid JSON Schema: {display(exc.message, 160)}") from None
    except RecursionError:
        raise SchemaUnusable(f"{path} is nested too deeply to check") from None
    for pattern in _patterns(schema):
        error = compile_error(pattern)
        if error is not None:
            raise SchemaUnusable(f"{path}: its pattern {display(repr(pattern), 60)} cannot be used: {error}")
    cls = jsonschema.validators.extend(base, _pattern_keywords())
    registry = Registry(retrieve=_local_retriever(path.parent)).combine(_specifications())
    validator = cls(schema, registry=registry, format_checker=_format_checker(base.FORMAT_CHECKER))
    if isinstance(schema, dict):
        resolver = registry.resolver_with_root(Resource.from_contents(schema, default_specification=DRAFT202012))
        for ref in _references(schema):
            try:
                resolver.lookup(ref)
            except Unresolvable as exc:
                raise SchemaUnusable(f"{path}: the reference {_unresolvable(exc)}") from None
            except (RecursionError, ValueError, TypeError) as exc:
                raise SchemaUnusable(f"{path}: the reference `{ref}` cannot be resolved ({type(exc).__name__})") from None
    loaded = SchemaValidator(path, validator)
    for probe in _PROBES:
        try:
            loaded.errors(probe)
        except SchemaUnusable as exc:
            raise SchemaUnusable(f"{path}: {exc}") from None
    return loaded


def _regex_format(instance: object) -> bool:
    """`"format": "regex"` on a value of the data: jsonschema would `re.compile` it, and a
    value such as `a{100000000}` takes minutes and gigabytes to compile (or `((((...`
    recurses without end); `patterns.compile_error` bounds both."""
    return not isinstance(instance, str) or compile_error(instance) is None


def _format_checker(base: jsonschema.FormatChecker) -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(formats=())
    checker.checkers = {**base.checkers, "regex": (_regex_format, ())}
    return checker


def _specifications() -> Registry:
    """The official metaschemas, which schemas may reference by their `https` ids
    (bundled with jsonschema: nothing is fetched)."""
    return SPECIFICATIONS
