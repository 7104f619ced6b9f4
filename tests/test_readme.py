"""The README's promises: CI runs its test command, and its numbers come from result files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dendrix.recipes.base import README_END, README_START, load_results, results_markdown

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", quick, flags=re.S)


def test_quick_start_has_exactly_two_commands_install_and_test():
    install, test = _commands()
    assert "\n" not in install and "\n" not in test
    assert install.endswith("dendrix reproduce --quick")
    assert "pip install torch==2.13.0" in install and "pip install torch==2.13.0" in test
    assert "pytest" in test and "ruff check" in test


def test_ci_runs_the_readme_test_command_verbatim():
    _, test = _commands()
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test in ci_lines


def test_every_code_block_of_the_tour_runs_as_written():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = text.split("## A short tour", 1)[1]
    blocks = re.findall(r"```python\n(.+?)\n```", tour, flags=re.S)
    assert len(blocks) >= 2
    namespace: dict = {}
    for code in blocks:
        exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["p_fm"] == pytest.approx(1.34e-12, rel=0.01)
    assert namespace["p_fn"] == pytest.approx(0.0717, rel=0.01)


def test_readme_results_table_is_generated_from_the_committed_results():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    assert 0 <= start < end, "README lost its results markers"
    section = text[start + len(README_START) : end].strip()
    records = load_results(ROOT / "results")
    if not records:
        pytest.skip("no committed results yet")
    assert section == results_markdown(records)
