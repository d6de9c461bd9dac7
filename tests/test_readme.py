"""The README is a newcomer's path: its set-up commands are the ones CI runs.

Its code blocks run, with what they print checked and no warning, in
``tests/test_docs.py`` (with every documentation page).
"""

import re
from pathlib import Path

from _snippets import PYTHON_LANGS, parse

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SETUP = ["pip install . && python -m sknets",
         'pip install ".[test]" && python -m pytest -q -n auto -m "not slow"']


def _shell_lines():
    return [line.strip() for block in parse(README) if block.lang == "bash"
            for line in block.code.splitlines() if line.strip()]


def test_the_two_set_up_commands_come_first():
    assert _shell_lines()[:2] == SETUP


def test_ci_runs_the_readmes_test_command():
    test_command = SETUP[1].split("&&")[1].strip()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(rf"^\s*{re.escape(test_command)}\s*(\\|$)", ci, flags=re.M), ci


def test_readme_stays_an_overview():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < 150
    blocks = [b for b in parse(README) if b.lang in PYTHON_LANGS]
    assert 3 <= len(blocks) <= 5
    assert all("continued" not in b.markers for b in blocks)   # each runs on its own


def test_readme_links_exist():
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#]+)\)", text)
    assert len(links) > 10
    for link in links:
        if not re.match(r"[a-z]+:", link):
            assert (ROOT / link).exists(), link
