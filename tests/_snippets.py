"""Code blocks of the README and the documentation pages, and how to run them.

A page is a list of blocks ``Block(lang, code, markers, line)``. In
reStructuredText a block is a ``.. code-block:: LANG`` directive; in Markdown a
fenced block. Markers are written just before a block, invisible on the
rendered page: ``.. snippet: MARKER`` (reST comment) or ``<!-- snippet:
MARKER -->`` (Markdown). They are:

``continued``
    This Python block runs in the namespace of the page's previous Python
    block (an explicit continuation); without it a block runs on its own.
``unchecked``
    This output block is not compared with what the code printed (timings).
``gpu``
    This Python block needs a CUDA GPU; it runs only where CuPy finds one.
``slow``
    This Python block takes long (it starts a cluster): its test is marked
    ``slow``.

A ``text`` block (or a block without a language) right after a Python block
is what that block prints: it is compared with the printed text by doctest's
checker (``ELLIPSIS``, ``NORMALIZE_WHITESPACE``) unless marked ``unchecked``.
"""

import contextlib
import doctest
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT_LANGS = {"", "text", "none"}
PYTHON_LANGS = {"python", "py"}
SHELL_LANGS = {"bash", "sh", "shell", "console"}


@dataclass
class Block:
    lang: str
    code: str
    markers: set = field(default_factory=set)
    line: int = 0


def _markers(pending):
    found = set()
    for text in pending:
        found.update(w.strip() for w in text.split(",") if w.strip())
    return found


def parse_markdown(text):
    """The fenced blocks of a Markdown text, with their markers."""
    blocks, pending, lines = [], [], text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"\s*<!--\s*snippet:\s*(.*?)\s*-->", line)
        if m:
            pending.append(m.group(1))
        elif line.startswith("```"):
            lang, body, start = line[3:].strip(), [], i + 1
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            blocks.append(Block(lang, "\n".join(body) + "\n", _markers(pending), start))
            pending = []
        elif line.strip():
            pending = []
        i += 1
    return blocks


def parse_rst(text):
    """The ``code-block`` directives of a reST text, with their markers."""
    blocks, pending, lines = [], [], text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"\s*\.\. snippet:\s*(.*)$", line)
        d = re.match(r"(\s*)\.\. (?:code-block|code|sourcecode)::\s*(\S*)", line)
        if m:
            pending.append(m.group(1))
        elif d:
            indent, lang, start = len(d.group(1)), d.group(2), i + 1
            i += 1
            while i < len(lines) and re.match(r"\s+:\w[\w-]*:", lines[i]):   # options
                i += 1
            body = []
            while i < len(lines) and (not lines[i].strip()
                                      or len(lines[i]) - len(lines[i].lstrip()) > indent):
                body.append(lines[i])
                i += 1
            while body and not body[-1].strip():
                body.pop()
            while body and not body[0].strip():
                body.pop(0)
            width = min((len(b) - len(b.lstrip()) for b in body if b.strip()), default=0)
            code = "\n".join(b[width:] for b in body) + "\n"
            blocks.append(Block(lang, code, _markers(pending), start))
            pending = []
            continue
        elif line.strip() and not line.lstrip().startswith(".."):
            pending = []
        i += 1
    return blocks


def parse(path):
    text = Path(path).read_text(encoding="utf-8")
    return parse_markdown(text) if str(path).endswith(".md") else parse_rst(text)


def python_groups(blocks):
    """Chains of Python blocks run in one namespace: ``[[(block, output), ...]]``,
    where ``output`` is the output block that follows it (or None)."""
    groups = []
    for k, block in enumerate(blocks):
        if block.lang not in PYTHON_LANGS:
            continue
        nxt = blocks[k + 1] if k + 1 < len(blocks) else None
        output = nxt if nxt is not None and nxt.lang in OUTPUT_LANGS else None
        if "continued" in block.markers:
            if not groups:
                raise ValueError(f"line {block.line}: 'continued' with no block before it")
            groups[-1].append((block, output))
        else:
            groups.append([(block, output)])
    return groups


CHECKER = doctest.OutputChecker()
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def run_group(group, name):
    """Run a chain of blocks in one namespace; raise AssertionError when a
    checked output differs from what the code printed."""
    namespace = {"__name__": "__main__"}
    for block, output in group:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(block.code, f"{name}:{block.line}", "exec"), namespace)
        printed = buffer.getvalue()
        if output is None or "unchecked" in output.markers:
            continue
        if not CHECKER.check_output(output.code, printed, FLAGS):
            raise AssertionError(
                f"{name}, block at line {block.line}: printed output differs from the "
                f"page's (line {output.line}).\n--- page:\n{output.code}--- printed:\n{printed}")
    return namespace
