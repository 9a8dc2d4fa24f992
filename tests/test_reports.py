"""The end-of-run coverage report: terminal tables, JSON, Markdown, HTML, --ftdata-fail-under.

Reports are built on the xdist controller from what the items' test reports carried,
so every scenario that matters runs in every run mode
(serial, `-n 2`, `-p no:xdist`) and must print the same.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from collections import Counter
from pathlib import Path

import pytest

from pytest_ftdata.report.model import RunReport
from pytest_ftdata.config import validate
from pytest_ftdata.engine import analyze_dataset, dataset_files
from pytest_ftdata.findings import sort_key
from pytest_ftdata.report.coverage import Coverage
from pytest_ftdata.findings import Finding
from pytest_ftdata.report.html import SPLIT_COLORS, VERDICT_COLORS, render_html
from pytest_ftdata.report.markdown import render_markdown
from pytest_ftdata.report.terminal import render_coverage

QUIET_PLUGINS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:benchmark")

CONFIG = """
[tool.ftdata]
label = "target:/intent"
min_per_label = {train = 4, test = 1}
min_per_subgroup = {language = 3}

[tool.ftdata.subgroups]
language = "/metadata/language"
"""


@pytest.fixture
def ticket(chat):
    def ticket(text: str, label: str, language: str = "en") -> dict:
        return chat(text, json.dumps({"intent": label}), metadata={"language": language})

    return ticket


BILLING = ["I was charged twice this month", "Why is my invoice higher than usual?", "The card fee looks wrong",
           "Please explain the extra line on my statement", "My plan price changed without notice",
           "Can I get a copy of last year's receipts"]


@pytest.fixture
def support_rows(ticket):
    def support_rows():
        """train: billing 6 (en), refund 2 (de); test: billing 1 (en), refund 1 (en), cancel 1 (de)."""
        train = [ticket(text, "billing") for text in BILLING]
        train += [ticket("Ich möchte mein Geld zurück", "refund", "de"), ticket("Bitte erstatten Sie den Betrag", "refund", "de")]
        test = [ticket("A duplicate payment shows up", "billing"), ticket("Return the money for the broken order", "refund"),
                ticket("Kündigen Sie bitte mein Abo", "cancel", "de")]
        return train, test

    return support_rows


@pytest.fixture
def make_project(write_jsonl, support_rows):
    def make_project(pytester, config: str = CONFIG) -> None:
        train, test = support_rows()
        write_jsonl(pytester.path / "data" / "train.jsonl", train)
        write_jsonl(pytester.path / "data" / "test.jsonl", test)
        pytester.makepyprojecttoml(config)

    return make_project


def section(output: str) -> str:
    """The pytest-ftdata terminal section, without the timing line."""
    match = re.search(r"^=+ pytest-ftdata =+$(.*?)(?=^=+ (short test summary|\d+ (passed|failed)))", output, re.M | re.S)
    assert match, output
    return match.group(1)


def fake_state(root: Path, **settings) -> RunReport:
    """The run report of a pure analysis (the writers need nothing else)."""
    config = validate(settings, "test settings", None)
    result = analyze_dataset(root, dataset_files(root), config, root.parent, families=("labels", "subgroups"))
    nodeid = f"{result.path}/dataset"
    return RunReport.build(
        rootdir=str(root.parent),
        findings=result.all_findings(),
        files=[file_result.info.to_dict() for file_result in result.files.values()],
        summaries={f"{nodeid}::subgroups": result.summaries["subgroups"]},
    )


# -- terminal ---------------------------------------------------------------------------------


REPORTS = ("--ftdata-report", "term", "--ftdata-report", "json:out/ftdata.json",
           "--ftdata-report", "md:out/ftdata.md", "--ftdata-report", "html:out/ftdata.html")


def test_end_of_run_report(pytester, run_mode, make_project):
    """The coverage table, every report type at once, and the fail-under gate; under
    `-n 2` (and with xdist off) all of it must be what a serial run gives, printed once."""
    make_project(pytester)
    result = run_mode(pytester, "--ftdata", "data", *REPORTS, "--ftdata-fail-under=90", *QUIET_PLUGINS)
    assert result.ret == 1
    output = result.stdout.str()
    assert len(re.findall(r"^-+ subgroup coverage: data/ -+$", output, re.M)) == 1
    assert len(re.findall(r"^subgroup coverage: \d", output, re.M)) == 1
    text = section(output)
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("label (target:/intent)"))
    # label: refund has 2 of 4 in train (LOW), cancel 0 of 4 (MISSING), every test cell is met
    assert lines[header] == "label (target:/intent): 3 subgroups, 4 of 6 required cells met"
    assert lines[header + 1].split() == ["subgroup", "train", "test", "total", "share", "minimum", "status"]
    table = {line.split()[0]: line.split()[1:] for line in lines[header + 3 : header + 7]}
    share = lambda count: f"{100 * count / 11:.1f}%"  # noqa: E731 - 11 examples in all
    assert table["billing"] == ["6", "1", "7", share(7), "4/1", "ok"]
    assert table["refund"] == ["2", "1", "3", share(3), "4/1", "LOW"]
    assert table["cancel"] == ["0", "1", "1", share(1), "4/1", "MISSING"]
    assert table["TOTAL"] == ["8", "3", "11", "100%", "4/6", "met"]
    # language: de has 2 of 3 in train, 1 of 1 in test; en is ok: 3 of 4; 7 of 10 overall
    assert "language (/metadata/language): 2 subgroups, 3 of 4 required cells met" in lines
    assert "subgroup coverage: 70.0% of required cells met (7 of 10)" in lines
    for kind in ("json", "md", "html"):
        assert f"pytest-ftdata {kind} report written to out/ftdata.{kind}" in lines
    assert lines[-1] == "FAIL Required subgroup coverage of 90% not reached. Total subgroup coverage: 70.0%"

    report = json.loads((pytester.path / "out" / "ftdata.json").read_text(encoding="utf-8"))
    assert {"version", "files", "findings"} <= set(report) and report["version"] == 1
    subgroups = report["subgroups"]
    [data] = subgroups["datasets"]
    assert data["nodeid"] == "data/dataset" and data["dataset"] == "data"
    assert data["splits"] == ["train", "test"] and data["examples"] == {"train": 8, "test": 3}
    assert subgroups["coverage"] == {"required": 10, "met": 7, "percent": 70.0}
    assert (data["required"], data["met"]) == (10, 7)
    for dimension in data["dimensions"]:
        # every dimension partitions the examples of every split
        for split, count in data["examples"].items():
            assert sum(row["counts"][split] for row in dimension["rows"]) == count, dimension["name"]
        assert dimension["required"] == sum(len(row["minimum"]) for row in dimension["rows"])
    assert set(data["histograms"]) == {"input_chars", "target_chars"}
    md = (pytester.path / "out" / "ftdata.md").read_text(encoding="utf-8")
    assert "### Subgroup coverage: `data/`" in md and "Subgroup coverage: 70.0% of required cells met" in md
    cancel = next(line for line in md.splitlines() if line.startswith("| cancel"))
    assert [cell.strip() for cell in cancel.strip("|").split("|")] == ["cancel", "0", "1", "1", share(1), "4/1", "**MISSING**"]
    page = (pytester.path / "out" / "ftdata.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and ">MISSING<" in page

    if run_mode.name != "serial":
        serial = pytester.runpytest("--ftdata", "data", *REPORTS, "--ftdata-fail-under=90", *QUIET_PLUGINS)
        assert section(serial.stdout.str()) == text
        serial_report = json.loads((pytester.path / "out" / "ftdata.json").read_text(encoding="utf-8"))
        assert serial_report["subgroups"] == subgroups and serial_report["findings"] == report["findings"]
        assert (pytester.path / "out" / "ftdata.md").read_text(encoding="utf-8") == md
        assert (pytester.path / "out" / "ftdata.html").read_text(encoding="utf-8") == page


def test_term_missing_shows_only_rows_under_their_minimum(pytester, make_project):
    make_project(pytester)
    result = pytester.runpytest("--ftdata", "data", "--ftdata-report", "term-missing", *QUIET_PLUGINS)
    text = section(result.stdout.str()).split(" subgroup coverage: data/ ")[1]
    rows = [line.split()[0] for line in text.splitlines() if re.match(r"^\S+\s+\d+\s+\d+\s+\d+\s", line)]
    assert rows == ["cancel", "refund", "TOTAL", "de", "TOTAL"]
    assert "billing" not in text and "split:" not in text
    assert "subgroup coverage: 70.0% of required cells met (7 of 10)" in text


def test_term_missing_when_everything_is_met(dataset, ticket):
    root = dataset(train=[ticket("a", "billing")] * 3, test=[ticket("b", "billing")])
    state = fake_state(root, label="target:/intent", min_per_label=2)
    lines = render_coverage(state, missing_only=True)
    assert "every required subgroup cell is met" in lines
    assert lines[-1] == "subgroup coverage: 100.0% of required cells met (2 of 2)"


def test_tables_fit_the_terminal_width(dataset, ticket):
    long_names = [f"customer_account_{i}_{'x' * 30}_closure_request" for i in range(3)]
    root = dataset(train=[ticket(f"t{i}", name) for i, name in enumerate(long_names) for _ in range(2)])
    state = fake_state(root, label="target:/intent", min_per_label=3)
    for width in (60, 80, 120):
        lines = render_coverage(state, width=width)
        table_lines = [line for line in lines if re.match(r"^(customer|subgroup|TOTAL|-{3,}\s)", line)]
        assert table_lines and all(len(line) <= width for line in table_lines), (width, lines)
    assert any("\N{HORIZONTAL ELLIPSIS}" in line for line in render_coverage(state, width=60))
    assert not any("\N{HORIZONTAL ELLIPSIS}" in line for line in render_coverage(state, width=200))


def test_coverage_percent_is_rounded_down():
    assert Coverage(required=3, met=2).percent == 66.6
    assert Coverage(required=10000, met=9999).percent == 99.9
    assert Coverage(required=0, met=0).percent == 100.0
    assert "no minimums are configured" in Coverage(0, 0).text()


# -- fail-under -------------------------------------------------------------------------------


def test_fail_under_decides_the_exit_code(pytester, make_project):
    # Downgraded rules: the items pass, so only --ftdata-fail-under decides the exit code.
    make_project(pytester, CONFIG.replace("[tool.ftdata.subgroups]", 'rules = {labels = "warning", subgroups = "warning"}\n\n[tool.ftdata.subgroups]'))
    low = pytester.runpytest("--ftdata", "data", "--ftdata-fail-under=70.1", *QUIET_PLUGINS)
    assert low.ret == 1 and low.parseoutcomes().get("failed", 0) == 0
    low.stdout.fnmatch_lines(["FAIL Required subgroup coverage of 70.1% not reached. Total subgroup coverage: 70.0%"])
    enough = pytester.runpytest("--ftdata", "data", "--ftdata-fail-under", "70", *QUIET_PLUGINS)
    assert enough.ret == 0
    enough.stdout.fnmatch_lines(["Required subgroup coverage of 70% reached. Total subgroup coverage: 70.0%"])
    # only file reports: no table, but the total line and the gate
    quiet = pytester.runpytest("--ftdata", "data", "--ftdata-report", "json:r.json", "--ftdata-fail-under=70", *QUIET_PLUGINS)
    assert "subgroup coverage: data/" not in quiet.stdout.str()
    quiet.stdout.fnmatch_lines(["subgroup coverage: 70.0% of required cells met (7 of 10)", "Required subgroup coverage of 70% reached.*"])


def test_fail_under_rejects_a_bad_value(pytester, make_project):
    make_project(pytester)
    result = pytester.runpytest("--ftdata", "data", "--ftdata-fail-under=120", *QUIET_PLUGINS)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*expected a percentage between 0 and 100, got '120'*"])


# -- file reports -----------------------------------------------------------------------------


def test_markdown_escapes_and_folds(dataset, ticket):
    rows = [ticket(f"t{i}", "a|b <b>bold</b>") for i in range(2)] + [ticket(f"x{i}", f"label_{i:02d}") for i in range(30)]
    root = dataset(train=rows)
    text = render_markdown(fake_state(root, label="target:/intent", min_per_label=2))
    assert text.startswith("## pytest-ftdata\n")
    assert "a\\|b &lt;b&gt;bold&lt;/b&gt;" in text and "<b>bold" not in text
    assert "<details><summary>label (target:/intent): 31 subgroups, 1 of 31 required cells met (30 under the minimum)</summary>" in text
    assert "- split: all 32 examples are 'train', no minimum" in text
    table = [line for line in text.splitlines() if line.startswith("| label_00")]
    assert table and table[0].split("|")[-2].strip() == "**LOW**"


def test_html_is_self_contained_and_escaped(dataset, ticket):
    rows = [ticket(f"t{i}", "<script>alert(1)</script>") for i in range(3)] + [ticket("u", "jane@corp-mail.com")]
    root = dataset(train=rows, test=[ticket("v", "refund")])
    page = render_html(fake_state(root, label="target:/intent"))
    # the one script is the page's own filter script, inline; the data's is escaped
    assert page.lower().count("<script") == 1 and "<script>\n(function () {" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "jane@corp-mail.com" not in page
    for pattern in (r"\bsrc\s*=", r"\bhref\s*=", r"url\(", r"@import", r"https?:"):
        assert not re.search(pattern, page), pattern
    assert page.count("<svg") == 2 and "input length" in page and "target length" in page


def _decode_png(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """A minimal PNG decoder (8-bit RGB/RGBA, not interlaced): enough to read a screenshot."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    assert depth == 8 and interlace == 0 and color in (2, 6)
    bpp = 3 if color == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows, prior, index = [], bytearray(stride), 0
    for _ in range(height):
        kind, row = raw[index], bytearray(raw[index + 1 : index + 1 + stride])
        index += 1 + stride
        for x in range(stride):
            a = row[x - bpp] if x >= bpp else 0
            if kind == 1:
                row[x] = (row[x] + a) & 255
            elif kind == 2:
                row[x] = (row[x] + prior[x]) & 255
            elif kind == 3:
                row[x] = (row[x] + (a + prior[x]) // 2) & 255
            elif kind == 4:
                b, c = prior[x], prior[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[x] = (row[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(row))
        prior = row
    return width, height, bpp, rows


def _chromium() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no chromium on PATH (apt-get install chromium) to render the HTML report")
    return browser


def test_html_renders_in_headless_chromium(dataset, tmp_path, support_rows):
    browser = _chromium()
    train, test = support_rows()
    root = dataset(train=train, test=test)
    page = tmp_path / "ftdata.html"
    page.write_text(render_html(fake_state(root, label="target:/intent", min_per_label=4)), encoding="utf-8")
    shot = tmp_path / "shot.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
             "--force-device-scale-factor=0.5", f"--screenshot={shot}", "--window-size=1280,1200", page.as_uri()],
            capture_output=True, timeout=90, check=False,
        )
    assert shot.is_file(), "chromium wrote no screenshot"
    width, height, bpp, rows = _decode_png(shot.read_bytes())
    assert (width, height) == (640, 600)

    painted = Counter(row[x : x + 3] for row in rows for x in range(0, len(row), bpp))

    def pixels(hex_color: str) -> int:
        return painted[bytes.fromhex(hex_color.lstrip("#"))]

    # the split colours of the bar charts and histograms, and the coverage meter, are painted
    assert pixels(SPLIT_COLORS["train"]) > 300
    assert pixels(SPLIT_COLORS["test"]) > 300
    assert pixels(SPLIT_COLORS["validation"]) == 0  # no validation split in this dataset
    # the meters take the verdict's colour: a MISSING cell (cancel) makes them red, never green
    assert pixels(VERDICT_COLORS["missing"]) > 50
    assert pixels(VERDICT_COLORS["ok"]) == 0


# -- the compact summary (issue 13, item 5) ----------------------------------------------------


@pytest.fixture
def banking_project(shared_datasets, write_jsonl):
    """Banking77 as published (CSV) turned into chat JSONL, beside a small dataset with
    warnings only (tiny splits), named to sort first."""
    import csv

    def banking_project(pytester) -> None:
        for split in ("train", "test"):
            with open(shared_datasets / "banking77" / "raw" / f"{split}.csv", newline="", encoding="utf-8") as handle:
                rows = [{"messages": [{"role": "user", "content": row["text"]}, {"role": "assistant", "content": row["category"]}]}
                        for row in csv.DictReader(handle)]
            write_jsonl(pytester.path / "data" / "banking77" / f"{split}.jsonl", rows)
        clean = [{"messages": [{"role": "user", "content": f"What is {n} plus {n}?"},
                               {"role": "assistant", "content": f"It is {2 * n}, since {n} and {n} make {2 * n}."}]}
                 for n in range(30)]
        write_jsonl(pytester.path / "data" / "aaa_minor" / "train.jsonl", clean[:24])
        write_jsonl(pytester.path / "data" / "aaa_minor" / "val.jsonl", clean[24:27])
        write_jsonl(pytester.path / "data" / "aaa_minor" / "test.jsonl", clean[27:])

    return banking_project


def test_compact_summary_shows_banking77_leaks_at_once(pytester, run_mode_serial_and_xdist, banking_project):
    """Per dataset (problem datasets first) its task and, per rule (errors first), the count
    and the first one; no warning list and no table without a minimum until -v or term:full.
    Slow (Banking77 whole): serial and -n 2, which must print the same."""
    banking_project(pytester)
    result = run_mode_serial_and_xdist(pytester, "--ftdata", "data", *QUIET_PLUGINS)
    text = section(result.stdout.str())
    lines = text.splitlines()
    head = lines.index(next(line for line in lines if line.startswith("data/banking77/: 13083 examples in 2 files, ")))
    assert lines[head + 1] == "  task: classification (the 4000 sampled targets are 50 distinct short strings)"
    rules = [line.split()[:2] for line in lines[head + 2:] if line.startswith("  ") and not line.startswith("   ")]
    # errors first: the seven LEAK001 leaks are the first rule shown, with the count and one example
    assert rules[0] == ["error", "LEAK001"]
    assert re.match(r"  error   LEAK001 shared-input: 7, e\.g\. data/banking77/test\.jsonl:\d+$", lines[head + 2])
    severities = [severity for severity, _ in rules[: rules.index(next(r for r in rules if r[0] == "warning"))]]
    assert set(severities) == {"error"}
    assert all(len(line) <= 80 for line in lines if line.startswith(" "))
    # datasets with errors first: the one with warnings only (alphabetically first) comes after
    assert text.index("data/banking77/:") < text.index("data/aaa_minor/:")
    assert any(re.fullmatch(r"data/aaa_minor/: 30 examples in 3 files, \d+ warnings", line) for line in lines)
    # compact: no warning list, no subgroup table without a minimum, and a pointer to them
    assert "warnings (they do not fail the run):" not in text and "subgroup coverage: data/" not in text
    assert any(line.startswith("-v or --ftdata-report term:full shows all ") for line in lines)
    assert len(lines) < 80, len(lines)
    if run_mode_serial_and_xdist.xdist:
        return
    full = pytester.runpytest("--ftdata", "data", "--ftdata-report", "term:full", *QUIET_PLUGINS)
    full_text = section(full.stdout.str())
    assert "warnings (they do not fail the run):" in full_text
    assert "------ subgroup coverage: data/banking77/ ------" in full_text.replace("-" * 7, "-" * 6)
    assert "behaviour: 2 subgroups, no minimum" in full_text


def test_term_full_is_a_report_type():
    from pytest_ftdata.report import parse_report_spec

    assert parse_report_spec("term:full").type == "term-full"
    assert parse_report_spec("term:full").destination is None
    with pytest.raises(Exception, match="takes no path"):
        parse_report_spec("term:out.txt")


# -- the HTML report a reviewer uses (issue 13, item 6) ----------------------------------------


def _finding(rule: str, name: str, severity: str, path: str, line: int | None, message: str) -> Finding:
    return Finding(rule=rule, name=name, check="test", severity=severity, path=path, line=line, message=message)


@pytest.fixture
def review_report(dataset, ticket, chat, tmp_path):
    """Two datasets: `aaa/` has warnings only, `zzz/` an error among warnings; the coverage
    of `zzz/` (with near-copies and the behaviour dimension) has LOW and MISSING cells."""
    rows = [ticket("I was charged twice", "billing")] * 6 + [ticket(f"Refund order {i} please", "refund") for i in range(2)]
    rows += [chat("Please change it", "Which of your two accounts do you mean?")]
    root = dataset("zzz", train=rows, test=[ticket("Charged twice again", "billing"),
                                                  ticket("Return the money for the broken order", "refund"), ticket("Cancel it", "cancel")])
    (tmp_path / "aaa").mkdir()
    config = validate({"label": "target:/intent", "min_per_label": {"train": 4, "test": 1}}, "test settings", None)
    result = analyze_dataset(root, dataset_files(root), config, root.parent, families=("subgroups",))
    long = "A message that goes on and on " * 12 + "END-OF-MESSAGE"
    findings = [
        _finding("FMT008", "target-whitespace", "warning", "aaa/train.jsonl", 3, "Target ends with whitespace; strip it."),
        _finding("FMT008", "target-whitespace", "warning", "zzz/train.jsonl", 2, "Target ends with whitespace; strip it."),
        _finding("DUP003", "near-duplicate", "warning", "zzz/test.jsonl", 1, long),
        _finding("LEAK001", "shared-input", "error", "zzz/test.jsonl", 1, "Input appears in train and test."),
        _finding("LEAK001", "shared-input", "error", "zzz/test.jsonl", 2, "Input appears in train and test, again."),
    ]
    files = [{"path": "aaa/train.jsonl", "format": "chat", "split": "train", "examples": 3, "task": "generation",
              "task_reason": "the sampled targets are free text"},
             *(info.info.to_dict() for info in result.files.values())]
    return RunReport.build(rootdir=str(tmp_path), findings=findings, files=files,
                           summaries={"zzz/dataset::subgroups": result.summaries["subgroups"]})


def test_html_puts_errors_and_problem_datasets_first(review_report):
    page = render_html(review_report)
    findings = page[page.index("<h2>Findings</h2>"):]
    # the datasets table and the findings: zzz/ (an error) before aaa/ (warnings only)
    assert page.index("<b>zzz/</b>") < page.index("<b>aaa/</b>")
    assert findings.index("<h3>zzz/</h3>") < findings.index("<h3>aaa/</h3>")
    # in a dataset, rule groups with counts, errors first and unfolded
    zzz = findings[findings.index("<h3>zzz/</h3>"):findings.index("<h3>aaa/</h3>")]
    assert zzz.index("LEAK001") < zzz.index("DUP003") < zzz.index("FMT008")
    assert '<details class="rule sev-error" open><summary><code>LEAK001</code> shared-input' in zzz
    assert '<span class="shown">2</span> of 2' in zzz
    assert '<details class="rule sev-warning"><summary><code>DUP003</code>' in zzz
    # the run's counts by rule: errors first
    assert findings.index("<code>LEAK001</code>") < findings.index("<code>FMT008</code>")
    # each finding carries what the filters select by, its split from files[]
    assert ('<div class="finding" data-severity="error" data-rule="LEAK001" data-file="zzz/test.jsonl" '
            'data-split="test">') in page
    for name in ("severity", "rule", "file", "split"):
        assert f'<select data-filter="{name}">' in page
    # long messages are whole (wrapped by the style), never cut
    assert "END-OF-MESSAGE" in page and "text-overflow: ellipsis" not in page and "pre-wrap" in page
    # the task of each dataset, with its reason
    assert "generation <span class=\"why\">(the sampled targets are free text)</span>" in page


def test_html_coverage_charts_every_dimension_with_effective_counts(review_report):
    page = render_html(review_report)
    [(_, summary)] = review_report.coverage
    coverage = page[page.index("<h2>Subgroup coverage: zzz/</h2>"):]
    # every dimension the coverage model gives gets a table with bars, behaviour among them
    for dimension in summary["dimensions"]:
        assert f"<h3>{dimension['name']}" in coverage, dimension["name"]
    assert "<h3>behaviour</h3>" in coverage and "clarifying-question" in coverage
    # near-copies: the counts carry the effective count, the bars draw it inside
    billing = next(row for dim in summary["dimensions"] if dim["name"] == "label" for row in dim["rows"]
                   if row["subgroup"] == "billing")
    assert billing["effective"]["train"] < billing["counts"]["train"]
    assert f"<td>{billing['counts']['train']} ({billing['effective']['train']})</td>" in coverage
    assert f"{billing['effective']['train']} once near-copies count once" in coverage
    # a square-root scale: refund (2 in train) is drawn at sqrt(2/6) of billing's (6)
    label = coverage[coverage.index("<h3>label"):]
    widths = [float(w) for w in re.findall(r'<div class="bar" title="train: [^"]*" style="width:([\d.]+)%', label)[:3]]
    assert widths[0] == pytest.approx(100.0) and widths[2] == pytest.approx(100 * (2 / 6) ** 0.5, abs=0.01)
    # the verdict's colours: LOW and MISSING cells, so no green meter anywhere
    assert ">MISSING<" in coverage and ">LOW<" in coverage
    assert f"background:{VERDICT_COLORS['ok']}" not in page and f"background:{VERDICT_COLORS['missing']}" in page


def test_html_filters_work_in_headless_chromium(review_report, tmp_path):
    """The filter script runs in a real browser: a fragment chooses the filters, and only
    the matching findings, their rules and their datasets stay visible."""
    browser = _chromium()
    page = tmp_path / "ftdata.html"
    page.write_text(render_html(review_report), encoding="utf-8")

    def dom(fragment: str) -> str:
        with tempfile.TemporaryDirectory() as profile:
            done = subprocess.run(
                [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", "--dump-dom",
                 page.as_uri() + fragment],
                capture_output=True, timeout=90, check=False, text=True,
            )
        assert "<body>" in done.stdout, done.stderr[-2000:]
        return done.stdout

    everything = dom("")
    assert everything.count('class="finding"') == 5 and "hidden" not in everything.split("<h2>Findings</h2>")[1].split("<h2>")[0]
    errors = dom("#severity=error")
    shown = re.findall(r'<div class="finding" data-severity="(\w+)"[^>]*data-split="\w*">', errors)
    assert shown == ["error", "error"]  # the hidden ones carry hidden="" and do not match
    assert re.search(r'<section class="dataset-findings" hidden="">\s*<h3>aaa/</h3>', errors)
    assert re.search(r'id="shown">2<', errors)
    by_file = dom("#rule=FMT008&split=train")
    shown = re.findall(r'<div class="finding" data-severity="\w+" data-rule="(\w+)" data-file="([^"]+)"[^>]*data-split="\w*">', by_file)
    assert shown == [("FMT008", "zzz/train.jsonl"), ("FMT008", "aaa/train.jsonl")]
    assert re.search(r'id="shown">2<', by_file)


# -- the JSON report's additions (issue 13, item 7) --------------------------------------------


def test_json_findings_always_have_a_key_and_a_baseline_state(pytester, run_mode, chat, write_jsonl):
    """`key` is filled without a SARIF report too; with a baseline every finding says
    whether it is `new` or `unchanged` (accepted); without one there is no `baseline`."""
    rows = [chat(f"Where is my card, take {i}?", "card_arrival ") for i in range(6)]
    write_jsonl(pytester.path / "data" / "train.jsonl", rows)
    write_jsonl(pytester.path / "data" / "test.jsonl", [rows[0]])
    run_mode(pytester, "--ftdata", "data", "--ftdata-report", "json:r.json", *QUIET_PLUGINS)
    plain = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    assert plain["findings"] and all(finding.get("key") for finding in plain["findings"])
    assert not any("baseline" in finding for finding in plain["findings"])
    assert {"task", "task_reason"} <= set(plain["files"][0])
    pytester.runpytest("--ftdata", "data", "--ftdata-baseline", "base.json", "--ftdata-update-baseline", *QUIET_PLUGINS)
    # a new problem after the baseline was taken: one more copy across the splits
    write_jsonl(pytester.path / "data" / "test.jsonl", [rows[0], rows[1]])
    run_mode(pytester, "--ftdata", "data", "--ftdata-baseline", "base.json", "--ftdata-report", "json:r.json", *QUIET_PLUGINS)
    gated = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    states = {(f["rule"], f["path"], f["line"]): f["baseline"] for f in gated["findings"]}
    assert set(states.values()) == {"new", "unchanged"}, states
    assert states[("LEAK001", "data/test.jsonl", 2)] == "new"
    assert all(finding.get("key") for finding in gated["findings"])
    # additions only: every key of the plain report's findings is still there
    assert {key for f in plain["findings"] for key in f} <= {key for f in gated["findings"] for key in f}
