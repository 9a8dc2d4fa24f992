"""`duplicates`: the same or nearly the same example twice within one split.

"Duplicates overweight one behavior and can leak validation examples into
training." Within each split (the files that name no split form one scope), examples are
grouped by their input, compared after normalization (Unicode NFKC, case folding,
whitespace collapsed, and punctuation removed with `ignore_punctuation = true`), and
by near-duplicate inputs at or above `near_duplicate_threshold` (rapidfuzz ratio on
the normalized inputs; see `pytest_ftdata.neardup`). Examples under different system
prompts are different contexts and are never grouped together.

A group whose members carry different targets (or labels, with `label` set) is a
conflict, "the ambiguous cases" the lesson says to leave out or label clearly. Every
finding names every member of its group (`related`) and says which one to keep.

This is a dataset-level family (`data/dataset::duplicates`) rather than a per-file
one: a split may span several files, and it shares one fingerprint index with
`leakage` (`fingerprints.py`), so a dataset is fingerprinted once for both.
"""

from __future__ import annotations

from ..findings import Finding, example, rule
from .base import DatasetFamily
from .fingerprints import (
    UNSPLIT,
    FingerprintMap,
    Fingerprints,
    Member,
    UnionFind,
    cluster_key,
    describe_targets,
    display_members,
    excerpt_of,
    keep_choice,
    locations,
    plural,
    related_of,
    targets_by_value,
)
from .labels import dataset_location
from .spill import SCALE_EXTRA

EXACT_DUPLICATE = rule(
    code="DUP001", name="exact-duplicate", family="duplicates", severity="error",
    summary="An example appears more than once in a split.",
    why="""Two or more examples of one split are identical in everything the model trains
    on: system prompt, every turn, the target, tools and the rejected answer (metadata
    such as ids is ignored). Each copy is one more gradient step on the same behaviour,
    so the model overweights it, and copies are how validation examples end up in
    training ("Duplicates overweight one behavior and can leak validation examples into
    training"). Files in no split are each their own scope.""",
    fix="""Keep the example the message names and delete the other copies (deduplicate
    when you merge exports).""",
    settings=("splits",),
    bad=example("""
        {"id": "T-101", "messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page; we e-mail you a link."}]}
        {"id": "T-102", "messages": [{"role": "user", "content": "How do I change my e-mail address?"}, {"role": "assistant", "content": "Open Settings > Profile and edit E-mail."}]}
        {"id": "T-347", "messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page; we e-mail you a link."}]}
    """),
    good=example("""
        {"id": "T-101", "messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page; we e-mail you a link."}]}
        {"id": "T-102", "messages": [{"role": "user", "content": "How do I change my e-mail address?"}, {"role": "assistant", "content": "Open Settings > Profile and edit E-mail."}]}
    """),
)
DUPLICATE_INPUT = rule(
    code="DUP002", name="duplicate-input", family="duplicates", severity="error",
    summary="Two examples of a split have the same input after normalization.",
    why="""The inputs are equal once Unicode is NFKC-normalized, case is folded and runs of
    whitespace are collapsed (and punctuation removed, with `ignore_punctuation = true`),
    and the targets agree, so the examples teach the same thing twice: the usual result
    of merging exports, or of a cleaned and an uncleaned copy of the same record.""",
    fix="""Keep the example the message names (the first one whose input has no stray
    whitespace) and delete the others.""",
    settings=("ignore_punctuation", "splits"),
    bad=example("""
        {"messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page; we e-mail you a link."}]}
        {"messages": [{"role": "user", "content": "How do I change my e-mail address?"}, {"role": "assistant", "content": "Open Settings > Profile and edit E-mail."}]}
        {"messages": [{"role": "user", "content": " how do I reset  my PASSWORD?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page; we e-mail you a link."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page; we e-mail you a link."}]}
        {"messages": [{"role": "user", "content": "How do I change my e-mail address?"}, {"role": "assistant", "content": "Open Settings > Profile and edit E-mail."}]}
    """),
)
NEAR_DUPLICATE = rule(
    code="DUP003", name="near-duplicate", family="duplicates", severity="warning",
    summary="Two examples of a split have nearly the same input and the same target.",
    why="""The normalized inputs are at least `near_duplicate_threshold` similar (rapidfuzz
    ratio, 0-100, default 92; a one-character typo in a 40-character input scores 97.5,
    in a 13-character one 92.3) and the targets agree. "One thousand near-duplicates are
    weaker than two hundred examples that span the real decision space": the copies
    overweight one behaviour and add no coverage. A warning, because short inputs can be
    legitimately close.""",
    fix="""Keep the example the message names and delete the others, or rewrite them into
    cases the dataset does not cover yet. Raise `near_duplicate_threshold` if the rule
    flags real variety.""",
    settings=("near_duplicate_threshold", "ignore_punctuation", "splits"),
    bad=example("""
        {"messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page; we e-mail you a link."}]}
        {"messages": [{"role": "user", "content": "How do I change my e-mail address?"}, {"role": "assistant", "content": "Open Settings > Profile and edit E-mail."}]}
        {"messages": [{"role": "user", "content": "How do I reset my pasword?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page; we e-mail you a link."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page; we e-mail you a link."}]}
        {"messages": [{"role": "user", "content": "How do I change my e-mail address?"}, {"role": "assistant", "content": "Open Settings > Profile and edit E-mail."}]}
        {"messages": [{"role": "user", "content": "The reset link in the e-mail has expired."}, {"role": "assistant", "content": "Links expire after an hour: choose Forgot password again for a new one."}]}
    """),
)
CONFLICTING_TARGETS = rule(
    code="DUP004", name="conflicting-targets", family="duplicates", severity="error",
    summary="The same input has different targets within a split.",
    why="""Examples with the same input (after normalization) and the same system prompt
    carry different targets, or different labels when `label` is set. The model cannot
    learn both; it learns to guess, and the lesson says to leave out examples where even
    humans disagree unless the ambiguity is labelled clearly.""",
    fix="""Decide which answer is right, keep one example with it (the message suggests the
    most common target) and relabel or delete the others.""",
    settings=("label", "ignore_punctuation", "splits"),
    bad=example("""
        {"messages": [{"role": "system", "content": "Classify the support ticket."}, {"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "billing"}]}
        {"messages": [{"role": "system", "content": "Classify the support ticket."}, {"role": "user", "content": "The app crashes when I upload a photo."}, {"role": "assistant", "content": "technical"}]}
        {"messages": [{"role": "system", "content": "Classify the support ticket."}, {"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "technical"}]}
    """),
    good=example("""
        {"messages": [{"role": "system", "content": "Classify the support ticket."}, {"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "billing"}]}
        {"messages": [{"role": "system", "content": "Classify the support ticket."}, {"role": "user", "content": "The app crashes when I upload a photo."}, {"role": "assistant", "content": "technical"}]}
    """),
)
NEAR_CONFLICTING_TARGETS = rule(
    code="DUP005", name="near-conflicting-targets", family="duplicates", severity="warning",
    summary="Nearly the same input has different targets within a split.",
    why="""The normalized inputs are at least `near_duplicate_threshold` similar but the
    targets (or labels) differ. Often this is a labelling mistake on a reworded copy;
    sometimes a small change in wording rightly changes the answer ("turn on the
    lights" and "turn off the lights"), which is why this is a warning.""",
    fix="""Check each pair. When the wording does not change the answer, fix the odd target;
    the pair is then a near-duplicate (DUP003), so keep one of them. When it does, keep
    both.""",
    settings=("near_duplicate_threshold", "label", "ignore_punctuation", "splits"),
    bad=example("""
        {"messages": [{"role": "system", "content": "Classify the support ticket."}, {"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "billing"}]}
        {"messages": [{"role": "system", "content": "Classify the support ticket."}, {"role": "user", "content": "The app crashes when I upload a photo."}, {"role": "assistant", "content": "technical"}]}
        {"messages": [{"role": "system", "content": "Classify the support ticket."}, {"role": "user", "content": "I was charged twice for my plans."}, {"role": "assistant", "content": "technical"}]}
    """),
    good=example("""
        {"messages": [{"role": "system", "content": "Classify the support ticket."}, {"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "billing"}]}
        {"messages": [{"role": "system", "content": "Classify the support ticket."}, {"role": "user", "content": "The app crashes when I upload a photo."}, {"role": "assistant", "content": "technical"}]}
    """),
)

INDEX_OVER_BUDGET = rule(
    code="DUP006", name="duplicates-over-budget", family="duplicates", severity="error",
    summary="The duplicate search did not run: the fingerprint index passed its memory budget without the `scale` extra.",
    why="""The inputs of the dataset (normalized, with the dicts that group them) would need
    more memory than `fingerprint_memory_mb`. Past the budget the search runs out of core in
    DuckDB, which is an optional extra; without it the index drops its texts instead of
    growing without bound, so no duplicate of this dataset was looked for, and the run says
    so rather than pass in silence.""",
    fix="""`pip install 'pytest-ftdata[scale]'` (DuckDB and pyarrow), or raise
    `fingerprint_memory_mb` if the machine has the memory.""",
    settings=("fingerprint_memory_mb",),
)


def over_budget_message(index: Fingerprints, what: str) -> str:
    """The message of DUP006 and LEAK005."""
    missing = " and ".join(index.missing) or "duckdb"
    return (
        f"{what} did not run: the fingerprint index of this dataset would pass fingerprint_memory_mb = "
        f"{index.ctx.config.fingerprint_memory_mb}, and the out-of-core join needs {missing}; install them with "
        f"`{SCALE_EXTRA}`, or raise fingerprint_memory_mb."
    )


#: Tasks where one prompt may rightly have several answers (see `tasks.TASK_DEFAULTS`).
OPEN_ENDED = ("generation", "reasoning", "preference")


def _scope_text(scope: str) -> str:
    return "the files that name no split" if scope == UNSPLIT else f"the {scope} split"


def _normalized_text(index: Fingerprints) -> str:
    return "case, whitespace, Unicode form and punctuation" if index.ignore_punctuation else (
        "case, whitespace and Unicode form"
    )


def _identical_finding(index: Fingerprints, scope: str, members: list[Member]) -> Finding:
    where = _scope_text(scope)
    inputs = index.input_text(members[0].eid)
    targets = targets_by_value(index, members)
    if len(targets) > 1:
        majority = targets[0][1]
        keep = keep_choice(index, majority)
        at = next(m for m in members if m is not keep)
        tie = len(targets[0][1]) == len(targets[1][1])
        advice = (
            "decide which target is right, keep one example with it and relabel or delete the others"
            if tie
            else f"decide which target is right (the most common one is at {keep.location}), keep one example "
            "with it and relabel or delete the others"
        )
        if index.ctx.task in OPEN_ENDED:
            advice = (
                "several different answers to one prompt teach the model to average them: keep the best, or make "
                "the prompt say which variant it wants"
            )
            message = (
                f"Input appears {len(members)} times in {where} with {len(targets)} different targets: "
                f"{describe_targets(targets)}; {advice}."
            )
        else:
            message = (
                f"Input appears {len(members)} times in {where} with {len(targets)} different targets: "
                f"{describe_targets(targets)}; an ambiguous input teaches the model to guess, so {advice}."
            )
        return CONFLICTING_TARGETS.at(
            at.path, at.line, message, related=related_of(members, at), excerpt=excerpt_of(index, keep.eid),
            key=cluster_key(CONFLICTING_TARGETS.code, scope, inputs),
        )
    keep = keep_choice(index, members)
    at = next(m for m in members if m is not keep)
    others = [m for m in members if m is not keep]
    removal = f"keep {keep.location} and delete {locations(others)}" if len(others) <= 3 else (
        f"keep {keep.location} and delete the other {len(others)}"
    )
    if len({index.whole[m.eid] for m in members}) == 1:
        found = EXACT_DUPLICATE
        message = (
            f"Example is repeated {len(members)} times in {where} ({locations(members)}): copies overweight "
            f"one behaviour in training; {removal}."
        )
    else:
        found = DUPLICATE_INPUT
        message = (
            f"Input is the same after normalizing {_normalized_text(index)} in {plural(len(members), 'example')} "
            f"of {where} ({locations(members)}), with the same target: the copies overweight one behaviour; "
            f"{removal}."
        )
    return found.at(
        at.path, at.line, message, related=related_of(members, at), excerpt=excerpt_of(index, keep.eid),
        key=cluster_key(found.code, scope, inputs),
    )


def _near_finding(index: Fingerprints, scope: str, members: list[Member], low: float, high: float) -> Finding:
    where = _scope_text(scope)
    score = f"{low:.0f}%" if round(low) == round(high) else f"{low:.0f}-{high:.0f}%"
    inputs = sorted({index.input_text(m.eid) for m in members})
    targets = targets_by_value(index, members)
    if len(targets) > 1:
        keep = keep_choice(index, targets[0][1])
        at = next(m for m in members if m is not keep)
        message = (
            f"Inputs of {len(members)} examples in {where} are nearly the same (similarity {score}) but have "
            f"{len(targets)} different targets: {describe_targets(targets)}; if the wording difference justifies "
            "the different answers keep them, otherwise fix the target of the odd ones out."
        )
        return NEAR_CONFLICTING_TARGETS.at(
            at.path, at.line, message, related=related_of(members, at), excerpt=excerpt_of(index, keep.eid),
            key=cluster_key(NEAR_CONFLICTING_TARGETS.code, scope, *inputs),
        )
    keep = keep_choice(index, members)
    at = next(m for m in members if m is not keep)
    others = [m for m in members if m is not keep]
    message = (
        f"Inputs of {len(members)} examples in {where} are near-duplicates (similarity {score}) with the same "
        f"target ({locations(members)}): they overweight one behaviour; keep {keep.location} and delete or "
        f"rewrite the other {len(others)}."
    )
    return NEAR_DUPLICATE.at(
        at.path, at.line, message, related=related_of(members, at), excerpt=excerpt_of(index, keep.eid),
        key=cluster_key(NEAR_DUPLICATE.code, scope, *inputs),
    )


def find_duplicates(index: Fingerprints) -> list[Finding]:
    """Every duplicate and conflict finding of one dataset, split by split."""
    index.analyse()
    if not index.complete:
        return [
            INDEX_OVER_BUDGET.at(
                dataset_location(index.ctx), None, over_budget_message(index, "The duplicate search"),
                key=cluster_key(INDEX_OVER_BUDGET.code),
            )
        ]
    findings: list[Finding] = []
    contexts: dict[int, dict[tuple[str, int], list[int]]] = {}

    def by_context(first: int) -> dict[tuple[str, int], list[int]]:
        groups = contexts.get(first)
        if groups is None:
            groups = {}
            for eid in index.members_of(first):
                groups.setdefault((index.scope(eid), index.system[eid]), []).append(eid)
            contexts[first] = groups
        return groups

    identical: list[tuple[str, list[Member]]] = []
    for first in index.identical:
        for (scope, _system), eids in by_context(first).items():
            if len(eids) >= 2:
                identical.append((scope, [index.member(e) for e in eids]))

    # Near-duplicates: inputs joined by verified pairs, within one scope and system prompt.
    components = UnionFind()
    edges = []
    for a, b, score in index.near_pairs:
        groups_a, groups_b = by_context(a), by_context(b)
        for context in groups_a.keys() & groups_b.keys():
            components.union((a, context), (b, context))
            edges.append(((a, context), score))
    scores: dict = {}
    for node, score in edges:
        root = components.find(node)
        low, high = scores.get(root, (score, score))
        scores[root] = (min(low, score), max(high, score))
    near: list[tuple[str, list[Member], float, float]] = []
    for nodes in components.components():
        context = nodes[0][1]
        eids = sorted(eid for first, _ in nodes for eid in by_context(first)[context])
        low, high = scores[components.find(nodes[0])]
        near.append((context[0], [index.member(e) for e in eids], low, high))

    # The messages quote a few members of each cluster: read those examples again, in one pass per file.
    index.prefetch(
        {eid for _, members in identical for eid in display_members(index, members)}
        | {eid for _, members, _, _ in near for eid in display_members(index, members)}
    )
    findings.extend(_identical_finding(index, scope, members) for scope, members in identical)
    findings.extend(_near_finding(index, scope, members, low, high) for scope, members, low, high in near)
    return findings


class DuplicatesFamily(DatasetFamily):
    family = "duplicates"
    maps = (FingerprintMap,)

    def finish(self) -> list[Finding]:
        return find_duplicates(self.combined(FingerprintMap))
