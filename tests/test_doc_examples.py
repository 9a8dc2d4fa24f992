"""Every code example of the documentation still works.

The pages of docs/, the README and the example project's README hold code blocks a
reader copies. Each kind is held to what it promises:

- ```python blocks compile; those of docs/custom-assertions.md also run, on a copy of
  the example project (tests/test_api.py::test_custom_assertions_page_examples_run);
- ```toml blocks parse, and every pytest-ftdata table in them (`[tool.ftdata]` of a
  pyproject.toml, or an ftdata.toml) validates against the config model, with every
  `rules` selector naming a real rule, family or project check;
- ```json blocks parse (as one document, or as JSON Lines), ```yaml blocks parse;
- every `--ftdata...` option and every ini key in a shell or TOML block is one the
  plugin registers (asked of `pytest --help`, not of the source).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_ftdata import docs
from pytest_ftdata.config import check_rule_selectors, validate
from pytest_ftdata.findings import RULES

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md", ROOT / "example_project" / "README.md"]
FENCE = re.compile(r"^(?P<fence>`{3,})(?P<lang>[\w-]*)[^\n]*\n(?P<code>.*?)^(?P=fence)\s*$", re.M | re.S)

#: What the example project's conftest.py declares; doc examples may name them in `rules`.
PROJECT_SELECTORS = {"ACME001", "ACME002", "urgent-ticket-priority", "duplicate-ticket-id", "urgent-priority", "unique-ticket-ids"}


def blocks(language: str) -> list[tuple[str, str]]:
    """(where, code) of every fenced block of `language` in the pages."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            if match["lang"] == language:
                line = text.count("\n", 0, match.start()) + 1
                found.append((f"{page.relative_to(ROOT).as_posix()}:{line}", match["code"]))
    return found


def _ids(found):
    return [where for where, _ in found]


PYTHON = blocks("python")
TOML = blocks("toml")
JSON = blocks("json")
YAML = blocks("yaml")
SHELL = blocks("bash") + blocks("yaml")


def test_the_pages_have_examples_of_every_kind():
    assert len(PYTHON) >= 4 and len(TOML) >= 20 and len(JSON) >= 20 and len(YAML) >= 3 and len(blocks("bash")) >= 8


@pytest.mark.parametrize("where, code", PYTHON, ids=_ids(PYTHON))
def test_python_example_compiles(where, code):
    compile(code, where, "exec")


def test_the_custom_assertions_examples_are_run():
    # They need the example project around them: tests/test_api.py runs them; make sure it still reads this page.
    source = (ROOT / "tests" / "test_api.py").read_text(encoding="utf-8")
    assert 'ROOT / "docs" / "custom-assertions.md"' in source and "def test_custom_assertions_page_examples_run" in source
    assert any(where.startswith("docs/custom-assertions.md") for where, _ in PYTHON)


def _ftdata_tables(document: dict) -> list[dict]:
    """The pytest-ftdata tables of a TOML example: `[tool.ftdata]` of a pyproject.toml, else the
    whole document (an ftdata.toml) unless it is some other tool's configuration."""
    tool = document.get("tool")
    if isinstance(tool, dict):
        return [tool["ftdata"]] if "ftdata" in tool else []
    return [document]


@pytest.mark.parametrize("where, code", TOML, ids=_ids(TOML))
def test_toml_example_is_a_valid_configuration(where, code):
    document = tomllib.loads(code)
    selectors = RULES.selectors() | PROJECT_SELECTORS
    for table in _ftdata_tables(document):
        validate(table, where)  # ConfigError names the key and what is wrong
        if isinstance(table.get("rules"), dict):
            check_rule_selectors(table["rules"], selectors, where)


@pytest.mark.parametrize("where, code", JSON, ids=_ids(JSON))
def test_json_example_parses(where, code):
    try:
        json.loads(code)
    except ValueError:
        # JSON Lines (a dataset file): every line is one document. A rule page shows a file
        # as `json` only when every line parses, so this is no loophole for broken blocks.
        for number, line in enumerate(code.splitlines(), 1):
            if line.strip():
                try:
                    json.loads(line)
                except ValueError as exc:
                    pytest.fail(f"{where}: line {number} of the block is not JSON: {exc}")


@pytest.mark.parametrize("where, code", YAML, ids=_ids(YAML))
def test_yaml_example_parses(where, code):
    yaml = pytest.importorskip("yaml", reason="PyYAML comes with mkdocs (the [docs] and [test] extras)")
    assert yaml.safe_load(code) is not None


@pytest.fixture(scope="module")
def pytest_help() -> str:
    run = subprocess.run([sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_every_option_the_docs_use_exists(pytest_help):
    used = {option for _, code in SHELL for option in re.findall(r"(?<![\w-])(--(?:no-)?ftdata[a-z-]*)", code)}
    assert "--ftdata" in used and "--ftdata-baseline" in used
    missing = sorted(option for option in used if not re.search(rf"(?m)^\s+{re.escape(option)}\b", pytest_help))
    assert missing == [], f"the docs use options that `pytest --help` does not list: {missing}"


def test_every_ini_key_the_docs_use_exists(pytest_help):
    used = set()
    for _, code in TOML:
        ini = tomllib.loads(code).get("tool", {}).get("pytest", {}).get("ini_options", {})
        used |= {key for key in ini if key.startswith("ftdata")}
    assert {"ftdata", "ftdata_paths"} <= used
    missing = sorted(key for key in used if not re.search(rf"(?m)^\s+{re.escape(key)} \(", pytest_help))
    assert missing == [], f"the docs set ini keys that `pytest --help` does not list: {missing}"


def test_rule_pages_show_their_examples():
    # Generated pages are covered above; this guards the generator's choice of fences.
    rules = docs.load_rules()
    shown = [code for code, rule in rules.items() if rule.bad is not None]
    assert shown and all("## Example" in (ROOT / "docs" / "rules" / f"{code}.md").read_text(encoding="utf-8") for code in shown)
