"""Configuration: `[tool.ftdata]` in pyproject.toml and per-directory `ftdata.toml`.

The project table applies everywhere; an `ftdata.toml` applies to the files in its
directory and below, and the nearest one wins key by key (top-level keys replace,
they are not deep-merged, except `rules`, merged rule by rule so a directory can
relax or tighten one rule and keep the rest). Paths inside a config file are
relative to that file.

Everything is validated by the pydantic model `FtdataConfig`. A mistake is reported
once, at startup, as a `ConfigError` naming the file, the key, what is wrong and
the closest valid key, never as a traceback.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, ValidationInfo, field_validator
from rapidfuzz import process

from .behaviour import BEHAVIOURS
from .patterns import compile_error
from .safeio import UnreadableFile, read_small

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

SPLITS = ("train", "validation", "test")
DIR_CONFIG_NAME = "ftdata.toml"

Severity = Literal["error", "warning", "off"]
Split = Literal["train", "validation", "test"]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveInt = Annotated[int, Field(ge=0)]


class ConfigError(Exception):
    """A configuration mistake, phrased for the user."""


class _Strict(BaseModel):
    # strict: `max_chars = true` is not 1 and `min_per_label = "5"` is not 5 (a quoted
    # number is a typo worth a message, not a silent conversion); ints are still floats.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


#: Turn roles, as `roles = [...]` settings name them (a typo would silently match nothing).
Role = Literal["system", "user", "assistant", "tool"]
#: What `checks/pii.find_sensitive` reports (kept in step with `checks.pii.KINDS`).
PiiKind = Literal[
    "email", "phone", "payment-card", "iban", "ssn", "ip-address", "aws-access-key", "aws-secret-key",
    "github-token", "openai-key", "anthropic-key", "slack-token", "google-api-key", "stripe-key", "jwt",
    "private-key", "url-credentials", "high-entropy",
]


def _check_regexes(values: list[str]) -> list[str]:
    for value in values:
        error = compile_error(value)
        if error is not None:
            raise ValueError(f"{value!r} is not a valid regular expression: {error}")
    return values


class PiiConfig(_Strict):
    """`[tool.ftdata.pii]`: private-data and secret detection."""

    enabled: bool = Field(default=True, description="Run the private-data and secret detectors; `false` turns the `pii` family off.", examples=[False])
    roles: list[Role] | None = Field(
        default=None,
        description=(
            "Only look in turns with these roles (default: every role; a preference pair's rejected answer "
            "counts as an assistant turn). `[\"user\"]` looks only at what customers typed."
        ),
        examples=[["user", "assistant"]],
    )
    kinds: list[PiiKind] | None = Field(
        default=None,
        description="Kinds of data to look for (default: all but `high-entropy`); see the `PII` rules.",
        examples=[["email", "phone", "openai-key"]],
    )
    allow: list[str] = Field(
        default=[],
        description="Exact values that are allowed (placeholders, a public support address).",
        examples=[["support@acme.io"]],
    )
    allow_patterns: list[str] = Field(
        default=[],
        description="Regular expressions: a found value that fully matches one of them is allowed.",
        examples=[["ORD-\\d{6}"]],
    )
    allow_domains: list[str] = Field(
        default=["example.com", "example.org", "example.net"],
        description=(
            "E-mail and URL domains (and their subdomains) that are allowed. The documentation domains stay "
            "allowed when you set your own list."
        ),
        examples=[["acme.io"]],
    )
    allow_ids: list[str] = Field(
        default=[],
        description="Example ids (the values `id_field` points to) whose findings are accepted; without `id_field` it matches nothing (PII020).",
        examples=[["ticket-1042"]],
    )
    high_entropy: bool = Field(
        default=False,
        description="Also flag long random-looking strings that may be secrets (PII014; more false positives).",
        examples=[True],
    )

    @field_validator("allow_patterns")
    @classmethod
    def _patterns_compile(cls, values: list[str]) -> list[str]:
        return _check_regexes(values)


class BannedPattern(_Strict):
    """One `[[tool.ftdata.banned]]` entry: a pattern no example may match."""

    pattern: str = Field(
        description="A Python regular expression (`(?i)` for any case) that no turn may match; it runs with a time budget (POL003).",
        examples=["(?i)as an ai language model"],
    )
    message: str = Field(description="What the finding says after the match: why the text is banned and what to write instead.", examples=["Model boilerplate; answer directly"])
    roles: list[Role] | None = Field(default=None, description="Only search turns with these roles (default: every role).", examples=[["assistant"]])
    severity: Literal["error", "warning"] = Field(default="error", description="The severity of a match.", examples=["warning"])

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        error = compile_error(value)
        if error is not None:
            raise ValueError(f"is not a valid regular expression: {error}")
        return value


class SubgroupSpec(_Strict):
    """A subgroup dimension given as a table rather than a bare JSON Pointer."""

    pointer: str = Field(description="Value spec of the dimension: a JSON Pointer into the record, `target:/pointer` or `target`.", examples=["/metadata/tier"])
    min_per_subgroup: PositiveInt | None = Field(default=None, description="Fewest train examples each subgroup of this dimension needs (and one in validation and test).", examples=[20])
    min_share: Fraction | None = Field(default=None, description="Smallest share of each split each subgroup of this dimension needs.", examples=[0.05])
    values: list[str] | None = Field(default=None, description="Expected values: a value listed here with no example is MISSING, one not listed is SUB005.", examples=[["free", "pro", "enterprise"]])

    @field_validator("pointer")
    @classmethod
    def _pointer(cls, value: str) -> str:
        return _check_value_spec(value)


#: Subgroup dimensions every dataset gets; user dimensions may not reuse these names.
BUILTIN_SUBGROUPS = (
    "label", "split", "format", "system_prompt", "turns", "input_length", "target_length", "behaviour",
)

#: What an answer teaches (`behaviour.behaviour_of`).
Behaviour = Literal[BEHAVIOURS]


class BehaviourConfig(_Strict):
    """`[tool.ftdata.behaviour]`: the share of answers each behaviour must have."""

    min_share: dict[Behaviour, Union[Fraction, dict[Split, Fraction]]] = Field(
        default={},
        description=(
            "Minimum share of examples per behaviour (`refusal`, `clarifying-question`, `empty-answer`, "
            "`tool-call`, `answer`). A number is the share of the training split, and the behaviour must "
            "also appear in validation and test; a table gives a share per split (each at least one example)."
        ),
        examples=[{"refusal": 0.02}, {"refusal": {"train": 0.02, "test": 0.01}, "clarifying-question": 0.01}],
    )


#: Top-level keys of a JSON answer the extraction key table tracks per dataset (the rest
#: are counted as not tracked); `families.subgroups.MAX_KEYS` is this number.
MAX_EXTRACTION_KEYS = 200


def _check_keys(values: list[str]) -> list[str]:
    if len(values) > MAX_EXTRACTION_KEYS:
        raise ValueError(f"lists {len(values)} keys; at most {MAX_EXTRACTION_KEYS} top-level keys are tracked")
    for value in values:
        if not value:
            raise ValueError("holds an empty key name")
        if value.startswith("/"):
            raise ValueError(f"names top-level keys, not JSON Pointers: write {value.lstrip('/')!r}, not {value!r}")
    return values


class ExtractionConfig(_Strict):
    """`[tool.ftdata.extraction]`: which empty cases an extraction dataset must teach."""

    expect_empty_answer: bool = Field(
        default=True,
        description=(
            "An extraction dataset (JSON answers) must teach the answer for an input with nothing to extract: "
            "SUB007 when no example of the training split has an empty answer (`{}`, `null`, `[]`, or every key "
            "null or empty). Set false when every input of your task has something to extract."
        ),
        examples=[True, False],
    )
    expect_empty: Annotated[list[str], AfterValidator(_check_keys)] = Field(
        default=[],
        description=(
            "Top-level keys of the JSON answer that some inputs lack: SUB007 for every split in which each "
            "example has the key with a value (never null, empty or absent)."
        ),
        examples=[["phone", "email"]],
    )


def _check_value_spec(value: str) -> str:
    """A `label`/subgroup spec: a JSON Pointer, `target:` plus a pointer, or `target`."""
    if value == "target":
        return value
    pointer = value[len("target:") :] if value.startswith("target:") else value
    if pointer and not pointer.startswith("/"):
        raise ValueError("must be a JSON Pointer starting with '/', `target:/pointer` or `target`")
    return value


# A subgroup dimension is a bare pointer or a table. The tags are named after the
# types so that error locations read `subgroups.<name>[.pointer]` (see `_describe`),
# and only the branch the value's type selects reports errors.
SubgroupDimension = Annotated[
    Union[
        Annotated[str, AfterValidator(_check_value_spec), Tag("str")],
        Annotated[SubgroupSpec, Tag("SubgroupSpec")],
    ],
    Discriminator(lambda value: "str" if isinstance(value, str) else "SubgroupSpec"),
]


class FtdataConfig(_Strict):
    """Every setting of pytest-ftdata.

    Each field's `description` and `examples` are its documentation: the configuration
    reference (docs/configuration.md) and the JSON schema (docs/ftdata.schema.json) are
    generated from them by `python -m pytest_ftdata.docs`."""

    # -- the task and the format
    task: Literal["auto", "classification", "extraction", "generation", "reasoning", "preference"] = Field(
        default="auto",
        description=(
            "What the dataset teaches; `auto` decides per dataset directory from its first records "
            "(see `tasks.detect_task`). Rules such as DUP004 take their default severity from it."
        ),
        examples=["generation"],
    )
    format: Literal["chat", "completion", "instruction", "qa", "sharegpt", "preference"] | None = Field(
        default=None,
        description=(
            "The layout every record must use (default: detected per record). Records with another layout's "
            "keys are SCH102 errors; records with no recognised keys are read as this layout."
        ),
        examples=["chat"],
    )
    target_format: Literal["json", "text"] | None = Field(
        default=None,
        description=(
            "`json`: every answer must parse as JSON (FMT002). `text`: answers are prose (silences FMT005). "
            "Unset: a plain-text answer in a mostly-JSON file is a warning."
        ),
        examples=["json"],
    )
    target_schema: str | None = Field(
        default=None,
        description="Path (relative to the file that sets it) of a JSON Schema every JSON answer must validate against (FMT003).",
        examples=["schemas/answer.schema.json"],
    )
    record_schema: str | None = Field(
        default=None,
        description="Path (relative to the file that sets it) of a JSON Schema every whole record must validate against (SCH113); failures name the JSON path.",
        examples=["schemas/record.schema.json"],
    )
    id_field: str | None = Field(
        default=None,
        description="JSON Pointer to a stable example id (a ticket id), used in messages, allow-lists (`pii.allow_ids`) and baselines.",
        examples=["/metadata/ticket_id"],
    )

    # -- labels
    label: str | None = Field(
        default=None,
        description=(
            "Where the label of an example is: a JSON Pointer into the record (`/metadata/intent`), "
            "`target:/intent` into the answer parsed as JSON, or `target` for plain-label answers."
        ),
        examples=["target:/intent", "/metadata/intent"],
    )
    labels: list[str] | None = Field(
        default=None,
        description="The allowed labels: any other label is a finding (LBL002), and a listed label with no example is reported (LBL003).",
        examples=[["billing", "refund", "cancel"]],
    )
    min_per_label: PositiveInt | dict[Split, PositiveInt] | None = Field(
        default=None,
        description="Fewest examples each label needs: an integer is the train minimum, a table gives one per split (LBL006).",
        examples=[20, {"train": 20, "validation": 3, "test": 3}],
    )
    max_label_imbalance: Annotated[float, Field(ge=1.0)] | None = Field(
        default=None,
        description="Largest allowed ratio, per split, between the most and the least frequent label (LBL008).",
        examples=[10],
    )
    confusable: list[Annotated[list[str], Field(min_length=2)]] = Field(
        default=[],
        description="Groups of labels that look alike and must each be well covered in every split (LBL009, LBL010).",
        examples=[[["billing", "refund"], ["todo_list", "reminder"]]],
    )
    suspect_labels: bool = Field(
        default=True,
        description=(
            "On classification datasets, look for examples whose label the rest of the data contradicts (LBL012) "
            "and list the label pairs the data confuses; needs the `[labels]` extra (LBL013 says so when it is missing)."
        ),
        examples=[False],
    )
    min_per_confused_pair: PositiveInt = Field(
        default=10,
        description="Examples of each label of a confused pair that validation and test need (LBL014).",
        examples=[20],
    )

    # -- duplicates, leakage and splits
    splits: dict[Split, list[str]] | None = Field(
        default=None,
        description=(
            "Which files are `train`, `validation`, `test`, as file-name globs. By default a word of the file name "
            "decides: `train`/`training`, `val`/`valid`/`validation`/`dev`, `test`/`eval`/`holdout`."
        ),
        examples=[{"train": ["2024-*.jsonl"], "validation": ["dev_set.jsonl"], "test": ["final.jsonl"]}],
    )
    group_by: str | None = Field(
        default=None,
        description="JSON Pointer to the real-world unit (ticket, customer, conversation) whose examples must not span splits (LEAK003).",
        examples=["/metadata/customer_id"],
    )
    # 92: one typo is found from 13 characters up (97.5 at 40); on CLINC150 pairs at 90-91
    # are mostly paraphrases ("how do you say" / "how do i say"), from 92 up one-word,
    # one-number and typo variants (docs/benchmarks.md).
    near_duplicate_threshold: Annotated[float, Field(gt=0.0, le=100.0)] = Field(
        default=92.0,
        description=(
            "rapidfuzz `ratio` (0-100) of two normalized inputs from which they count as near-duplicates "
            "(DUP003, DUP005, LEAK002). A one-character typo scores 97.5 in a 40-character input and 92.3 in a 13-character one."
        ),
        examples=[97],
    )
    ignore_punctuation: bool = Field(
        default=False,
        description="Also remove punctuation (Unicode category P) when inputs are normalized, so `thanks!` and `thanks` are duplicates.",
        examples=[True],
    )
    # 1 GiB: the in-memory index of about 1.5 million chat examples (about 700 bytes each with
    # its dicts); past it the joins run in DuckDB (families/spill.py, docs/performance.md).
    fingerprint_memory_mb: PositiveInt = Field(
        default=1024,
        description=(
            "Memory budget, in MiB, of a dataset's fingerprint index (the inputs and dicts `duplicates` and "
            "`leakage` join). Past it the index goes out of core: the joins run in DuckDB over Parquet shards in a "
            "private temporary directory, inside the same budget, with the same findings; that needs the "
            "`[scale]` extra (DUP006 and LEAK005 say so when it is missing). About 80 bytes per example stay in "
            "memory either way."
        ),
        examples=[4096],
    )
    # The lesson's "practical starting point" (80/10/10).
    split_ratios: dict[Split, Fraction] = Field(
        default={"train": 0.8, "validation": 0.1, "test": 0.1},
        description="Expected share of the dataset of each split (SPL001); `{}` turns the ratio check off.",
        examples=[{"train": 0.9, "validation": 0.05, "test": 0.05}, {}],
    )
    split_tolerance: Fraction = Field(
        default=0.05,
        description="Allowed deviation of a split's share from `split_ratios`.",
        examples=[0.1],
    )
    # 100 examples put a 95% interval of about +-10 points on an accuracy; below that an
    # evaluation split is noise ("use a larger validation set than feels comfortable").
    min_split_size: dict[Split, PositiveInt] = Field(
        default={"validation": 100, "test": 100},
        description="Fewest examples each split needs (SPL002); a table replaces the default as a whole.",
        examples=[{"train": 400, "validation": 50, "test": 50}],
    )

    # -- subgroups
    subgroups: dict[str, SubgroupDimension] = Field(
        default={},
        description=(
            "Extra dimensions of the coverage report: name -> value spec, or name -> table "
            "`{ pointer, min_per_subgroup, min_share, values }`. The built-in names (`label`, `split`, `format`, "
            "`system_prompt`, `turns`, `input_length`, `target_length`, `behaviour`) are reserved."
        ),
        examples=[{"language": "/metadata/language", "tier": {"pointer": "/metadata/tier", "min_per_subgroup": 20, "values": ["free", "pro"]}}],
    )
    min_per_subgroup: PositiveInt | dict[str, PositiveInt] | None = Field(
        default=None,
        description=(
            "Fewest train examples each subgroup needs (and at least one in validation and test): an integer for "
            "every dimension, built-in ones included, or a table per dimension (SUB001, SUB002)."
        ),
        examples=[30, {"turns": 20, "input_length": 10}],
    )
    min_subgroup_share: Fraction | dict[str, Fraction] | None = Field(
        default=None,
        description="Smallest share of each split each subgroup needs, rounded up: a fraction for every dimension, or a table per dimension.",
        examples=[0.05, {"system_prompt": 0.05}],
    )
    behaviour: BehaviourConfig = Field(
        default=BehaviourConfig(),
        description="Minimum shares of the behaviours the answers teach (the `behaviour` dimension).",
        examples=[{"min_share": {"refusal": 0.02}}],
    )
    extraction: ExtractionConfig = Field(
        default=ExtractionConfig(),
        description="The empty cases an extraction dataset must teach (the key table of JSON answers, SUB007).",
        examples=[{"expect_empty": ["phone"]}],
    )
    min_effective_share: Fraction = Field(
        default=0.5,
        description=(
            "A subgroup of at least 20 examples whose distinct examples (near-duplicate clusters counted once) "
            "are at most this share of it is reported as mostly near-copies (SUB006); 0 turns the check off."
        ),
        examples=[0.5, 0.3],
    )

    # -- private data, policy and provenance
    pii: PiiConfig = Field(
        default=PiiConfig(),
        description="Private-data and secret detection (`[tool.ftdata.pii]`); setting it in an `ftdata.toml` replaces the whole table.",
        examples=[{"roles": ["user"], "allow_domains": ["acme.io"]}],
    )
    banned: list[BannedPattern] = Field(
        default=[],
        description=(
            "Regular expressions no example may match (stale policies, forbidden phrases), each with the message "
            "to show (`[[tool.ftdata.banned]]`, POL001)."
        ),
        examples=[[{"pattern": "(?i)as an ai language model", "message": "Model boilerplate; answer directly", "roles": ["assistant"]}]],
    )
    required_fields: list[str] = Field(
        default=[],
        description="JSON Pointers every record must carry with a non-empty value (provenance: source, generation method; POL002).",
        examples=[["/metadata/source", "/metadata/generated_by"]],
    )

    # -- reading
    #: At most 1 GiB: the reader allocates up to this much for one line, and a limit
    #: beyond what C sizes hold (`10**30`) would fail inside the read.
    max_line_bytes: Annotated[int, Field(ge=1024, le=1 << 30)] = Field(
        default=64 * 1024 * 1024,
        description=(
            "A line longer than this many bytes is measured, skipped without being held in memory, and reported "
            "(SCH010): it bounds the memory one line can take. The default is 64 MiB; at most 1 GiB."
        ),
        examples=[1048576],
    )

    # -- length
    max_chars: PositiveInt | None = Field(default=None, description="Longest example, in characters (LEN001).", examples=[20000])
    max_tokens: PositiveInt | None = Field(
        default=None,
        description="Longest example, in tokens of `tokenizer` (LEN002; a preference pair counts its prompt and the longer answer).",
        examples=[4096],
    )
    max_turn_chars: PositiveInt | None = Field(default=None, description="Longest single turn, in characters (LEN003).", examples=[8000])
    max_turn_tokens: PositiveInt | None = Field(default=None, description="Longest single turn, in tokens (LEN004).", examples=[2048])
    huge_example_chars: Annotated[int, Field(ge=1000)] = Field(
        default=1_000_000,
        description=(
            "Without `max_chars`, an example longer than this is still an error (LEN009): beyond the context of "
            "any model you can fine-tune."
        ),
        examples=[200000],
    )
    tokenizer: str | None = Field(
        default=None,
        description=(
            "How tokens are counted: `tiktoken:<encoding>`, a path to a Hugging Face `tokenizer.json` (relative "
            "to the file that sets it), or `estimate`. Unset: tiktoken `o200k_base` or `cl100k_base` if cached "
            "offline, else the estimate. Never downloads anything."
        ),
        examples=["estimate", "tiktoken:o200k_base", "tok/tokenizer.json"],
    )

    # -- gates
    rules: dict[str, Severity] = Field(
        default={},
        description=(
            "Severity per rule code, rule name or family (`error`, `warning` or `off`); a code wins over a name, a "
            "name over its family. Merged rule by rule with the inherited table. An unknown selector stops the run."
        ),
        examples=[{"FMT008": "off", "length": "warning"}],
    )

    @field_validator("target_schema", "record_schema", "tokenizer")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        # A NUL byte cannot be in a file name (the open would raise, not report), and an
        # empty path names the folder itself.
        if value is not None and (not value.strip() or "\x00" in value):
            raise ValueError("must be a file path (not empty, without NUL characters)")
        return value

    # -- versions
    lock: str = Field(
        default="ftdata.lock",
        description=(
            "The lock of each dataset, a file inside its directory (no absolute path, no `..`): "
            "`--ftdata-update-lock` writes it, and every run "
            "with a lock present compares the data with it (the `versions` family, VER rules). A name ending in "
            "`.gz` writes it gzip-compressed."
        ),
        examples=["ftdata.lock", "locks/support.lock.gz"],
    )

    @field_validator("label", "group_by", "id_field")
    @classmethod
    def _pointer(cls, value: str | None) -> str | None:
        if value is None or value == "target":
            return value
        pointer = value[len("target:") :] if value.startswith("target:") else value
        if pointer and not pointer.startswith("/"):
            raise ValueError("must be a JSON Pointer starting with '/', `target:/pointer` or `target`")
        return value

    @field_validator("subgroups")
    @classmethod
    def _subgroup_dimensions(cls, value: dict) -> dict:
        # Built-in dimensions are computed by the subgroups check; a user pointer under
        # the same name would silently shadow one of them.
        for name in value:
            if name in BUILTIN_SUBGROUPS:
                raise ValueError(f"uses the built-in dimension name `{name}`; give the pointer another name")
        return value

    @field_validator("min_per_subgroup", "min_subgroup_share")
    @classmethod
    def _per_dimension_minimums(cls, value: Any, info: ValidationInfo) -> Any:
        # The dict forms are keyed by dimension: a typo there would silently require
        # nothing, so an unknown name is an error.
        if isinstance(value, dict):
            known = BUILTIN_SUBGROUPS + tuple(info.data.get("subgroups") or {})
            for name in value:
                if name == "label":
                    raise ValueError("names `label`: set the label minimum with `min_per_label`")
                if name not in known:
                    raise ValueError(
                        f"names the unknown subgroup dimension `{name}`{_suggest(name, known)} "
                        f"(known: {', '.join(known)})"
                    )
        return value

    @field_validator("lock")
    @classmethod
    def _lock_name(cls, value: str) -> str:
        # The lock must never be collected as data. The suffixes are `readers.DATA_SUFFIXES`
        # (readers sits above config; tests/test_versions.py keeps the two equal).
        if not value or value.strip() != value:
            raise ValueError("must be a file name such as `ftdata.lock`")
        # The lock is the one file a run writes beside the data: it stays inside the
        # dataset's directory (`--ftdata-update-lock` would overwrite whatever it names).
        parts = value.replace("\\", "/").split("/")
        if value.startswith(("/", "\\")) or os.path.isabs(value) or ".." in parts or "\x00" in value or parts[-1] in ("", "."):
            raise ValueError(
                f"`{value}` must be a file name inside the dataset's directory, such as `ftdata.lock` or "
                "`locks/ftdata.lock` (no absolute path, no `..`)"
            )
        if Path(value).name.endswith(LOCK_FORBIDDEN_SUFFIXES):
            raise ValueError(f"`{value}` has the suffix of a data file, so it would be read as data; use `ftdata.lock`")
        return value

    @field_validator("required_fields")
    @classmethod
    def _pointers(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value.startswith("/"):
                raise ValueError(f"entries must be JSON Pointers starting with '/' ({value!r} is not)")
        return values

    @field_validator("split_ratios")
    @classmethod
    def _ratios_add_up(cls, value: dict) -> dict:
        total = sum(value.values())
        if total > 1.0 + 1e-6:
            raise ValueError(f"must add up to at most 1 (they add up to {total:g}); give each split's share of the whole dataset")
        if len(value) == len(SPLITS) and abs(total - 1.0) > 1e-3:
            raise ValueError(f"must add up to 1 when all three splits are given (they add up to {total:g})")
        return value

    def resolve(self, path: str | None) -> Path | None:
        """A path from the config (made absolute against the file that set it when the
        config was loaded)."""
        return None if path is None else Path(path)


#: A lock may not be named like a data file (`readers.DATA_SUFFIXES`).
LOCK_FORBIDDEN_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".parquet")

PATH_KEYS = ("target_schema", "record_schema", "tokenizer")


def check_rule_selectors(rules: dict, known: set[str] | frozenset[str], source: str) -> None:
    """Refuse `[tool.ftdata.rules]` entries that name no rule code, rule name or family.

    A typo there would silently gate nothing (ruff refuses unknown codes too). The
    known selectors come from the rule registry and the project's checks, which the
    caller passes in: the config model knows nothing of the families."""
    unknown = [selector for selector in rules if selector not in known]
    if unknown:
        lines = [
            f"{source}: setting `rules.{selector}` names no rule code, rule name or family"
            f"{_suggest(selector, tuple(sorted(known)))}"
            for selector in unknown
        ]
        raise ConfigError("invalid pytest-ftdata configuration:\n  " + "\n  ".join(lines))


KNOWN_KEYS = tuple(FtdataConfig.model_fields)


def _suggest(key: str, choices: tuple[str, ...]) -> str:
    match = process.extractOne(key, choices, score_cutoff=60)
    return f"; did you mean `{match[0]}`?" if match else ""


def _error_loc(error: dict) -> str:
    loc = ".".join(str(part) for part in error["loc"] if not str(part).startswith(("function-", "constrained-")))
    # pydantic reports union members as extra loc parts (`int`, `dict[...]`); keep the key path.
    return re.sub(r"\.(int|str|float|bool|list\[.*?\]|dict\[.*?\]|SubgroupSpec|Annotated\[.*?\])(?=\.|$)", "", loc)


def _keys_at(parent: str) -> tuple[str, ...]:
    """The settings a table at `parent` (`pii`, `banned.0`, `subgroups.lang`) may hold."""
    if parent == "pii":
        return tuple(PiiConfig.model_fields)
    if parent.startswith("banned."):
        return tuple(BannedPattern.model_fields)
    if parent.startswith("subgroups."):
        return tuple(SubgroupSpec.model_fields)
    if parent == "behaviour":
        return tuple(BehaviourConfig.model_fields)
    if parent == "extraction":
        return tuple(ExtractionConfig.model_fields)
    return KNOWN_KEYS


def _describe(error: dict, source: str) -> str:
    loc = _error_loc(error)
    if error["type"] == "extra_forbidden":
        parent, _, key = loc.rpartition(".")
        return f"{source}: unknown setting `{loc}`{_suggest(key, _keys_at(parent))}"
    value = error.get("input")
    if loc.endswith(".[key]") and error["type"] == "literal_error" and isinstance(value, str):
        # a table keyed by names (`behaviour.min_share = {refusals = 0.1}`): name the key
        parent = loc[: -len(".[key]")].rpartition(".")[0]  # the loc ends with the key itself
        choices = tuple(re.findall(r"'([^']*)'", error.get("ctx", {}).get("expected", "")))
        return (f"{source}: setting `{parent}` names `{value}`, which is not one of {error['ctx']['expected']}"
                f"{_suggest(value, choices)}")
    shown = repr(value) if not isinstance(value, (dict, list)) or len(repr(value)) < 60 else type(value).__name__
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return f"{source}: setting `{loc}` {message[0].lower()}{message[1:]} (got {shown})"


def validate(data: dict, source: str, base_dir: str | None = None) -> FtdataConfig:
    """Validate one config table; raise ConfigError with every mistake listed.

    Relative paths are made absolute against `base_dir` when it is given (the
    directory of the file the table came from)."""
    if base_dir is not None:
        data = _absolutize(data, Path(base_dir))
    try:
        return FtdataConfig.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # A misspelt key also makes its correct spelling "missing": say it once, as the typo.
        typos = {
            (parent, suggestion)
            for parent, key in (_error_loc(e).rpartition(".")[::2] for e in errors if e["type"] == "extra_forbidden")
            for suggestion in [_suggest(key, _keys_at(parent)).partition("`")[2].rstrip("`?")]
            if suggestion
        }
        # A table that fits a union's table member but holds a mistake also fails the
        # number member (`should be a valid number`); the mistake inside says it better.
        locs = [_error_loc(e) for e in errors]
        inner = {loc for loc in locs for other in locs if other.startswith(loc + ".")}
        seen = []
        for error, loc in zip(errors, locs):
            if error["type"] == "missing" and tuple(loc.rpartition(".")[::2]) in typos:
                continue
            if loc in inner and error["type"] in ("float_type", "int_type", "string_type", "bool_type"):
                continue
            line = _describe(error, source)
            if line not in seen:
                seen.append(line)
        raise ConfigError("invalid pytest-ftdata configuration:\n  " + "\n  ".join(_merge_union_lines(seen))) from None


_UNION_LINE = re.compile(r"^(?P<head>.*: setting `[^`]*`) input should be (?P<what>.*?)(?:, unable to [^(]*)? \(got (?P<got>.*)\)$")


def _merge_union_lines(lines: list[str]) -> list[str]:
    """One line per mistake: a value that fits no member of a union (`int | dict`) makes
    pydantic report each member; say "should be a valid integer or a valid dictionary"."""
    merged: dict[tuple, list[str]] = {}
    out: list = []
    for line in lines:
        match = _UNION_LINE.match(line)
        if match is None:
            out.append(line)
            continue
        key = (match["head"], match["got"])
        if key not in merged:
            merged[key] = []
            out.append(key)
        merged[key].append(match["what"])
    return [
        item if isinstance(item, str) else f"{item[0]} should be {' or '.join(merged[item])} (got {item[1]})" for item in out
    ]


def _read_toml(path: Path) -> dict:
    try:
        text = read_small(path).decode("utf-8")
        return tomllib.loads(text)
    except UnreadableFile as exc:
        raise ConfigError(f"{path}: {exc.reason}; replace it with a regular TOML file or remove it") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: is not valid UTF-8 text (byte {exc.start + 1}); TOML files are UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: is not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: is nested too deeply to read (arrays or tables inside each other)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None


def _named_tokenizer(value: str) -> bool:
    """`estimate` or `tiktoken:<encoding>`: a tokenizer by name, not a path to a tokenizer.json."""
    return value == "estimate" or value.startswith("tiktoken:")


def _absolutize(data: dict, base_dir: Path) -> dict:
    out = dict(data)
    for key in PATH_KEYS:
        value = out.get(key)
        if key == "tokenizer" and isinstance(value, str) and _named_tokenizer(value):
            continue
        # A blank value is left as it is, for the validator to reject: joined to the
        # folder it would name the folder itself, and slip through as a path.
        if isinstance(value, str) and value.strip() and not os.path.isabs(value):
            out[key] = str(base_dir / value)
    return out


class ConfigLoader:
    """Finds, validates and merges the config that applies to each dataset file."""

    def __init__(
        self,
        rootdir: Path,
        project_table: dict | None = None,
        project_source: str = "pyproject.toml",
        selectors: set[str] | frozenset[str] | None = None,
    ):
        self.rootdir = Path(rootdir).resolve()
        self.project_table = _absolutize(project_table or {}, self.rootdir)
        self.project_source = project_source
        #: What `rules` may name (see `check_rule_selectors`); None: not checked.
        self.selectors = selectors
        validate(self.project_table, project_source)
        self._check_rules(self.project_table, project_source)

    def _check_rules(self, table: dict, source: str) -> None:
        if self.selectors is not None and isinstance(table.get("rules"), dict):
            check_rule_selectors(table["rules"], self.selectors, source)

    @classmethod
    def from_rootdir(cls, rootdir: Path, selectors: set[str] | frozenset[str] | None = None) -> "ConfigLoader":
        pyproject = Path(rootdir) / "pyproject.toml"
        table: dict = {}
        if pyproject.is_file():
            table = _read_toml(pyproject).get("tool", {}).get("ftdata", {})
            if not isinstance(table, dict):
                raise ConfigError(f"{pyproject}: `tool.ftdata` must be a table")
        return cls(rootdir, table, str(pyproject), selectors)

    def _dir_tables(self, directory: Path) -> list[tuple[Path, dict]]:
        """`ftdata.toml` tables from the rootdir down to `directory`, outermost first."""
        directory = directory.resolve()
        chain = []
        current = directory
        while True:
            chain.append(current)
            if current == self.rootdir or current.parent == current:
                break
            current = current.parent
        tables = []
        for folder in reversed(chain):
            candidate = folder / DIR_CONFIG_NAME
            # Anything named ftdata.toml is read (a pipe, a device or a dangling link is an
            # error from `_read_toml`): a config that is silently skipped would let the run
            # pass under rules the user did not write.
            if os.path.lexists(candidate):
                tables.append((candidate, self._dir_table(candidate)))
        return tables

    @lru_cache(maxsize=None)
    def _dir_table(self, path: Path) -> dict:
        table = _absolutize(_read_toml(path), path.parent)
        validate(table, str(path))
        self._check_rules(table, str(path))
        self._inside_project(table, path)
        return table

    def _inside_project(self, table: dict, source: Path) -> None:
        """An `ftdata.toml` beside the data may only name files inside the project: a data
        folder (often copied from elsewhere) must not point the run at `/etc` or `~/.ssh`.
        The project's own pyproject.toml may."""
        root = Path(os.path.realpath(self.rootdir))
        for key in PATH_KEYS:
            value = table.get(key)
            if not isinstance(value, str) or (key == "tokenizer" and _named_tokenizer(value)):
                continue
            target = Path(os.path.realpath(value))
            if target != root and root not in target.parents:
                raise ConfigError(
                    f"{source}: setting `{key}` points outside the project ({target}); an ftdata.toml beside the "
                    "data may only name files inside the project. Move the file into the project, or set the "
                    "path in pyproject.toml if it is meant."
                )

    @lru_cache(maxsize=None)
    def for_directory(self, directory: Path) -> FtdataConfig:
        merged = dict(self.project_table)
        source = self.project_source
        for path, table in self._dir_tables(Path(directory)):
            rules = {**merged.get("rules", {}), **table.get("rules", {})}
            merged.update(table)
            if rules:
                merged["rules"] = rules
            source = str(path)
        return validate(merged, source)

    def for_file(self, path: Path) -> FtdataConfig:
        return self.for_directory(Path(path).resolve().parent)

    def check_tree(self, paths: list[Path]) -> None:
        """Validate every `ftdata.toml` under `paths` now, so mistakes surface at startup."""
        for top in paths:
            top = Path(top)
            if top.is_file():
                self.for_file(top)
                continue
            if not top.is_dir():
                continue
            for folder, dirnames, filenames in os.walk(top):
                dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in ("node_modules", "__pycache__")]
                if DIR_CONFIG_NAME in filenames:
                    self.for_directory(Path(folder))


def load_config(
    directory: str | os.PathLike = ".", *, selectors: set[str] | None = None, **overrides: Any
) -> FtdataConfig:
    """The config for `directory` (merged as in a pytest run), with keyword overrides."""
    directory = Path(directory)
    folder = directory if directory.is_dir() else directory.parent
    root = folder.resolve()
    probe = root
    while probe.parent != probe and not (probe / "pyproject.toml").is_file():
        probe = probe.parent
    loader = ConfigLoader.from_rootdir(probe if (probe / "pyproject.toml").is_file() else root, selectors)
    return with_overrides(loader.for_directory(folder), overrides)


def with_overrides(config: FtdataConfig, overrides: dict[str, Any]) -> FtdataConfig:
    """`config` with keyword overrides (paths relative to the working directory), validated."""
    if not overrides:
        return config
    data = config.model_dump(exclude_unset=True)
    data.update(_absolutize(overrides, Path.cwd()))
    return validate(data, "load() arguments")
