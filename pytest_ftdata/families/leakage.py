"""`leakage`: the same input, or the same real-world unit, in more than one split.

"If the model sees the same example during training and validation, validation loss
looks good for the wrong reason. You did not measure generalization, you measured
memory." This family compares the splits of one dataset directory (train with
validation and test, and validation with test) on the inputs, normalized as for
`duplicates` (the system prompt does not matter here: an answer memorized under one
prompt is still memorized), and on near-duplicate inputs at or above
`near_duplicate_threshold`.

"Splits should be grouped by real-world unit when possible." With `group_by` (a JSON
Pointer such as `/metadata/ticket_id`), a group id found in more than one split is a
finding that lists the group's lines in each split.

Files in no split (see `engine.split_of`) take no part. The fingerprint index is
shared with `duplicates` (`fingerprints.py`).
"""

from __future__ import annotations

from ..findings import Finding, example, rule
from .base import DatasetFamily
from .duplicates import OPEN_ENDED, over_budget_message
from .fingerprints import (
    MAX_RELATED,
    SPLIT_ORDER,
    FingerprintMap,
    Fingerprints,
    Member,
    UnionFind,
    cluster_key,
    display_members,
    excerpt_of,
    locations,
    plural,
    quoted,
    targets_by_value,
)
from .labels import dataset_location

SHARED_INPUT = rule(
    code="LEAK001", name="shared-input", family="leakage", severity="error",
    summary="An input of validation or test also appears in another split.",
    why="""The input is identical, or identical after normalizing Unicode, case and
    whitespace, in train and validation or test, or in validation and test, with the
    same target. The model is evaluated on an example it trained on, so the score
    measures memory, not generalization ("You did not measure generalization, you
    measured memory"), and two evaluation splits that share examples are not
    independent. The system prompt does not matter here: an answer memorized under one
    prompt is still memorized.""",
    fix="""Keep the example in train only (or, between validation and test, in one of them)
    and delete the other copies; replace them with new evaluation examples if the split
    gets too small.""",
    settings=("ignore_punctuation", "splits"),
    bad=example({
        "train.jsonl": """
            {"messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page; we e-mail you a link."}]}
            {"messages": [{"role": "user", "content": "How do I change my e-mail address?"}, {"role": "assistant", "content": "Open Settings > Profile and edit E-mail."}]}
        """,
        "test.jsonl": """
            {"messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page; we e-mail you a link."}]}
        """,
    }),
    good=example({
        "train.jsonl": """
            {"messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page; we e-mail you a link."}]}
            {"messages": [{"role": "user", "content": "How do I change my e-mail address?"}, {"role": "assistant", "content": "Open Settings > Profile and edit E-mail."}]}
        """,
        "test.jsonl": """
            {"messages": [{"role": "user", "content": "How do I turn on two-factor sign-in?"}, {"role": "assistant", "content": "Open Settings > Security and choose Two-factor sign-in."}]}
        """,
    }),
)
NEAR_DUPLICATE_LEAK = rule(
    code="LEAK002", name="near-duplicate-leak", family="leakage", severity="warning",
    summary="An input of validation or test is a near-duplicate of one in another split.",
    why="""The normalized inputs are at least `near_duplicate_threshold` similar (a typo,
    a punctuation or wording variant) across splits. Evaluation on a near copy of a
    training example still measures memory. A warning, because short inputs can be
    close and still be different tasks ("turn on the lights" and "turn off the
    lights").""",
    fix="""Delete or rewrite the evaluation copy, or keep the pair in one split.""",
    settings=("near_duplicate_threshold", "ignore_punctuation", "splits"),
    bad=example({
        "train.jsonl": """
            {"messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page; we e-mail you a link."}]}
            {"messages": [{"role": "user", "content": "How do I change my e-mail address?"}, {"role": "assistant", "content": "Open Settings > Profile and edit E-mail."}]}
        """,
        "test.jsonl": """
            {"messages": [{"role": "user", "content": "How do I reset my passwrod?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page; we e-mail you a link."}]}
        """,
    }),
    good=example({
        "train.jsonl": """
            {"messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page; we e-mail you a link."}]}
            {"messages": [{"role": "user", "content": "How do I change my e-mail address?"}, {"role": "assistant", "content": "Open Settings > Profile and edit E-mail."}]}
        """,
        "test.jsonl": """
            {"messages": [{"role": "user", "content": "The password reset link never arrives."}, {"role": "assistant", "content": "Check the spam folder, then add noreply@acme.example to your contacts and ask for a new link."}]}
        """,
    }),
)
GROUP_LEAK = rule(
    code="LEAK003", name="group-leak", family="leakage", severity="error",
    summary="One real-world group (ticket, document, customer) has examples in more than one split.",
    why="""With `group_by` set to a JSON Pointer (`/metadata/ticket_id`), every group must sit
    in exactly one split. "If ten examples come from the same customer ticket, do not put
    eight in train and two in validation. The validation examples will be too similar to
    training." The message lists the group's lines in each split.""",
    fix="""Move the whole group into one split: assign splits by group id, not by example
    (for example by hashing the group id).""",
    settings=("group_by", "splits"),
    bad=example(
        {
            "train.jsonl": """
                {"messages": [{"role": "user", "content": "The app logs me out every few minutes."}, {"role": "assistant", "content": "Please update to version 4.2, which fixes session renewal."}], "metadata": {"ticket_id": "T-5521"}}
                {"messages": [{"role": "user", "content": "How do I export my contacts?"}, {"role": "assistant", "content": "Open Contacts, choose Export and pick CSV."}], "metadata": {"ticket_id": "T-5530"}}
            """,
            "val.jsonl": """
                {"messages": [{"role": "user", "content": "I updated to 4.2 and it still logs me out."}, {"role": "assistant", "content": "Then clear the app's data once and sign in again; the old session is cached."}], "metadata": {"ticket_id": "T-5521"}}
            """,
        },
        group_by="/metadata/ticket_id",
    ),
    good=example(
        {
            "train.jsonl": """
                {"messages": [{"role": "user", "content": "The app logs me out every few minutes."}, {"role": "assistant", "content": "Please update to version 4.2, which fixes session renewal."}], "metadata": {"ticket_id": "T-5521"}}
                {"messages": [{"role": "user", "content": "I updated to 4.2 and it still logs me out."}, {"role": "assistant", "content": "Then clear the app's data once and sign in again; the old session is cached."}], "metadata": {"ticket_id": "T-5521"}}
            """,
            "val.jsonl": """
                {"messages": [{"role": "user", "content": "How do I export my contacts?"}, {"role": "assistant", "content": "Open Contacts, choose Export and pick CSV."}], "metadata": {"ticket_id": "T-5530"}}
            """,
        },
        group_by="/metadata/ticket_id",
    ),
)
CROSS_SPLIT_CONFLICT = rule(
    code="LEAK004", name="cross-split-conflict", family="leakage", severity="error",
    summary="The same input has different targets in different splits.",
    why="""The input (after normalization) appears in two splits with different targets or
    labels, such as CLINC150's "turn up your volume", `whisper_mode` in train and
    `change_volume` in validation. It is a leak and a contradiction at once: training
    teaches one answer while evaluation scores another.""",
    fix="""Decide the right target, fix it, and keep the example in one split only.""",
    settings=("label", "ignore_punctuation", "splits"),
    bad=example({
        "train.jsonl": """
            {"messages": [{"role": "system", "content": "Classify the support ticket."}, {"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "billing"}]}
            {"messages": [{"role": "system", "content": "Classify the support ticket."}, {"role": "user", "content": "The app crashes when I upload a photo."}, {"role": "assistant", "content": "technical"}]}
        """,
        "val.jsonl": """
            {"messages": [{"role": "system", "content": "Classify the support ticket."}, {"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "account"}]}
        """,
    }),
    good=example({
        "train.jsonl": """
            {"messages": [{"role": "system", "content": "Classify the support ticket."}, {"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "billing"}]}
            {"messages": [{"role": "system", "content": "Classify the support ticket."}, {"role": "user", "content": "The app crashes when I upload a photo."}, {"role": "assistant", "content": "technical"}]}
        """,
        "val.jsonl": """
            {"messages": [{"role": "system", "content": "Classify the support ticket."}, {"role": "user", "content": "I cannot add a second admin to my workspace."}, {"role": "assistant", "content": "account"}]}
        """,
    }),
)
INDEX_OVER_BUDGET = rule(
    code="LEAK005", name="leakage-over-budget", family="leakage", severity="error",
    summary="The leakage search did not run: the fingerprint index passed its memory budget without the `scale` extra.",
    why="""The inputs of the dataset (normalized, with the dicts that join them across
    splits) would need more memory than `fingerprint_memory_mb`. Past the budget the joins
    run out of core in DuckDB, which is an optional extra; without it the index drops its
    texts instead of growing without bound, so no input shared by two splits, and no group
    in two splits, was looked for, and the run says so rather than pass in silence.""",
    fix="""`pip install 'pytest-ftdata[scale]'` (DuckDB and pyarrow), or raise
    `fingerprint_memory_mb` if the machine has the memory.""",
    settings=("fingerprint_memory_mb",),
)

SPLIT_RANK = {name: rank for rank, name in enumerate(SPLIT_ORDER)}


def _by_split(members: list[Member]) -> dict[str, list[Member]]:
    out: dict[str, list[Member]] = {}
    for member in sorted(members, key=lambda m: (SPLIT_RANK[m.split], m.file_order, m.line)):
        out.setdefault(member.split, []).append(member)
    return out


def _split_list(by_split: dict[str, list[Member]]) -> str:
    parts = [f"{split} ({locations(group, 3)})" for split, group in by_split.items()]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _place(by_split: dict[str, list[Member]]) -> tuple[Member, list[Member]]:
    """The finding goes to the first copy in the latest-but-first split present (the
    evaluation copy to remove); `related` holds every other member."""
    splits = list(by_split)
    at = by_split[splits[1]][0]
    members = [m for group in by_split.values() for m in group]
    return at, [m for m in members if m is not at]


def _fix(by_split: dict[str, list[Member]], near: bool = False) -> tuple[str, str]:
    splits = list(by_split)
    evaluation = [s for s in splits if s != "train"]
    copies = sum(len(by_split[s]) for s in evaluation)
    if "train" in by_split:
        seen = "a near copy of an input" if near else "an input"
        return (
            f"the model is evaluated on {seen} it trained on, so the score measures memory, not generalization",
            f"keep it in train only and delete the {plural(copies, 'copy', 'copies')} in {' and '.join(evaluation)}",
        )
    return (
        "validation and test share an example, so they are not independent evaluations",
        f"delete the {plural(len(by_split['test']), 'copy', 'copies')} in test",
    )


def _related(related: list[Member]) -> list[tuple[str, int]]:
    return [(m.path, m.line) for m in related[:MAX_RELATED]]


def _first_per_target(index: Fingerprints, members: list[Member]) -> list[Member]:
    seen: set[int] = set()
    out = []
    for member in members:
        if index.target[member.eid] not in seen:
            seen.add(index.target[member.eid])
            out.append(member)
    return out


def _identical_leak(index: Fingerprints, members: list[Member]) -> Finding:
    by_split = _by_split(members)
    at, related = _place(by_split)
    inputs = index.input_text(members[0].eid)
    how = (
        "appears identically"
        if len({index.raw_input[m.eid] for m in members}) == 1
        else "appears (identical after normalizing case, whitespace and Unicode form)"
    )
    targets = targets_by_value(index, members)
    if len(targets) > 1:
        per_split = "; ".join(
            f"{split}: " + ", ".join(sorted({quoted(index.target_shown(m.eid), 30) for m in _first_per_target(index, group)}))
            for split, group in by_split.items()
        )
        if index.ctx.task in OPEN_ENDED:
            message = (
                f"Input {how} in {_split_list(by_split)} with different targets ({per_split}): the model trains on "
                "the prompt it is evaluated on, so the score measures memory of the prompt; keep the prompt in one "
                "split only (several answers to one prompt are fine, in one split)."
            )
        else:
            message = (
                f"Input {how} in {_split_list(by_split)} with different targets ({per_split}): training teaches "
                "one answer while evaluation scores another; decide the right target, then keep the example in "
                "one split only."
            )
        found = CROSS_SPLIT_CONFLICT
    else:
        consequence, fix = _fix(by_split)
        message = f"Input {how} in {_split_list(by_split)}: {consequence}; {fix}."
        found = SHARED_INPUT
    return found.at(
        at.path, at.line, message, related=_related(related), excerpt=excerpt_of(index, at.eid),
        key=cluster_key(found.code, inputs),
    )


def _near_leak(index: Fingerprints, members: list[Member], low: float, high: float) -> Finding:
    by_split = _by_split(members)
    at, related = _place(by_split)
    score = f"{low:.0f}%" if round(low) == round(high) else f"{low:.0f}-{high:.0f}%"
    consequence, fix = _fix(by_split, near=True)
    targets = targets_by_value(index, members)
    differ = "; the targets differ, so check whether the wording change is the point" if len(targets) > 1 else ""
    message = (
        f"Input is a near-duplicate (similarity {score}) of inputs in another split: {_split_list(by_split)}; "
        f"{consequence}{differ}; {fix}, or rewrite them."
    )
    inputs = sorted({index.input_text(m.eid) for m in members})
    return NEAR_DUPLICATE_LEAK.at(
        at.path, at.line, message, related=_related(related), excerpt=excerpt_of(index, at.eid),
        key=cluster_key(NEAR_DUPLICATE_LEAK.code, *inputs),
    )


def _group_leak(index: Fingerprints, name: str, members: list[Member], pointer: str) -> Finding:
    by_split = _by_split(members)
    at, related = _place(by_split)
    per_split = "; ".join(
        f"{split}: {plural(len(group), 'example')} ({locations(group, 5)})" for split, group in by_split.items()
    )
    message = (
        f"Group {pointer} = {quoted(name)} has examples in {len(by_split)} splits ({per_split}): examples of "
        "one real-world unit make the evaluation resemble training; move the whole group into one split."
    )
    return GROUP_LEAK.at(
        at.path, at.line, message, related=_related(related), key=cluster_key(GROUP_LEAK.code, name),
    )


def find_leakage(index: Fingerprints) -> list[Finding]:
    """Every leakage finding of one dataset."""
    index.analyse()
    if not index.complete:
        return [
            INDEX_OVER_BUDGET.at(
                dataset_location(index.ctx), None, over_budget_message(index, "The leakage search"),
                key=cluster_key(INDEX_OVER_BUDGET.code),
            )
        ]
    findings: list[Finding] = []
    in_splits: dict[int, list[int]] = {}

    def split_members(first: int) -> list[int]:
        eids = in_splits.get(first)
        if eids is None:
            eids = in_splits[first] = [e for e in index.members_of(first) if index.split(e)]
        return eids

    identical: list[list[Member]] = []
    for first in index.identical:
        eids = split_members(first)
        if len({index.split(e) for e in eids}) >= 2:
            identical.append([index.member(e) for e in eids])

    components = UnionFind()
    edges = []
    for a, b, score in index.near_pairs:
        if split_members(a) and split_members(b):
            components.union(a, b)
            edges.append((a, score))
    scores: dict[int, tuple[float, float]] = {}
    for node, score in edges:
        root = components.find(node)
        low, high = scores.get(root, (score, score))
        scores[root] = (min(low, score), max(high, score))
    near: list[tuple[list[Member], float, float]] = []
    for firsts in components.components():
        eids = sorted(e for first in firsts for e in split_members(first))
        if len({index.split(e) for e in eids}) >= 2:
            low, high = scores[components.find(firsts[0])]
            near.append(([index.member(e) for e in eids], low, high))

    # The messages quote a few members of each cluster: read those examples again, in one pass per file.
    index.prefetch(
        {eid for members in identical for eid in display_members(index, members)}
        | {eid for members, _, _ in near for eid in display_members(index, members)}
    )
    findings.extend(_identical_leak(index, members) for members in identical)
    findings.extend(_near_leak(index, members, low, high) for members, low, high in near)

    pointer = index.group_spec or ""
    for key, eids in index.leaked_groups().items():
        findings.append(_group_leak(index, index.group_name(eids[0]), [index.member(e) for e in eids], pointer))
    return findings


class LeakageFamily(DatasetFamily):
    family = "leakage"
    maps = (FingerprintMap,)

    def finish(self) -> list[Finding]:
        return find_leakage(self.combined(FingerprintMap))
