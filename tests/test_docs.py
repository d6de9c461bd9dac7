"""The README and the documentation cannot drift from the code.

- Every Python block of README.md and of the pages under docs/ runs, on its
  own or as a declared continuation (``tests/_snippets.py`` says how blocks
  are marked), prints what the page shows, and warns about nothing.
- Every shell command they show names a file, extra or option that exists.
- The API reference lists every public name.
- When the site has been built (``make -C docs html``): its pages link to
  files that exist and every gallery example produced its figures.
"""

import contextlib
import inspect
import io
import re
import shlex
import warnings
from configparser import ConfigParser

import pytest
from _snippets import (
    CHECKER,
    FLAGS,
    OUTPUT_LANGS,
    ROOT,
    SHELL_LANGS,
    parse,
    python_groups,
    run_group,
)
from threadpoolctl import threadpool_limits

DOCS = ROOT / "docs"
BUILD = DOCS / "_build" / "html"
SKIP_DIRS = {"_build", "auto_examples", "generated", "_templates"}


def pages():
    found = [ROOT / "README.md"]
    for path in sorted(DOCS.rglob("*")):
        if path.suffix in (".rst", ".md") and not SKIP_DIRS & set(path.relative_to(DOCS).parts):
            found.append(path)
    return found


def _groups():
    params = []
    for page in pages():
        name = str(page.relative_to(ROOT))
        for group in python_groups(parse(page)):
            markers = set().union(*(b.markers for b, _ in group))
            marks = [getattr(pytest.mark, m) for m in ("gpu", "slow") if m in markers]
            params.append(pytest.param(name, group, id=f"{name}:{group[0][0].line}",
                                       marks=marks))
    return params


def test_pages_found():
    names = {str(p.relative_to(ROOT)) for p in pages()}
    assert "README.md" in names and "docs/getting_started.rst" in names
    assert len(_groups()) >= 20


@pytest.mark.parametrize(("page", "group"), _groups())
def test_python_blocks_run(page, group):
    if any("gpu" in b.markers for b, _ in group):
        from sknets.backend import gpu_available

        if not gpu_available():
            pytest.skip("needs CuPy and a CUDA GPU")
    with threadpool_limits(1, user_api="blas"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_group(group, page)
    shown = [w for w in caught
             if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning))]
    assert not shown, "the page's code warns: " + "; ".join(
        f"{w.category.__name__}: {w.message}" for w in shown)


# ------------------------------------------------------------ shell commands
def _cli_runs():
    """Shell blocks of one ``python -m sknets`` command followed by its output."""
    params = []
    for page in pages():
        blocks = parse(page)
        for block, nxt in zip(blocks, blocks[1:]):
            lines = [line for line in block.code.splitlines() if line.strip()]
            if (block.lang in SHELL_LANGS and len(lines) == 1
                    and lines[0].startswith("python -m sknets") and nxt.lang in OUTPUT_LANGS):
                name = str(page.relative_to(ROOT))
                params.append(pytest.param(lines[0], nxt, id=f"{name}:{block.line}"))
    return params


@pytest.mark.parametrize(("command", "output"), _cli_runs())
def test_command_line_runs_print_what_the_page_shows(command, output):
    from sknets.__main__ import main

    buffer = io.StringIO()
    with threadpool_limits(1, user_api="blas"), contextlib.redirect_stdout(buffer):
        code = main(shlex.split(command)[3:])
    assert code == 0
    if "unchecked" in output.markers:   # timings: check all but the numbers of seconds
        expected = re.sub(r"\d+\.\d+ s\b|\d+\.\d{4}(?=\s*$)", "...", output.code,
                          flags=re.M)
        expected = expected.replace("openblas 1 threads", "...")
    else:
        expected = output.code
    assert CHECKER.check_output(expected, buffer.getvalue(), FLAGS), buffer.getvalue()



def _extras():
    cfg = ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return set(cfg["options.extras_require"])


def _check_command(words, extras):
    """Raise AssertionError when a shown command names something that is not there."""
    from sknets.__main__ import build_parser

    env = 0
    while env < len(words) and re.match(r"[A-Z_]+=", words[env]):
        env += 1
    words = words[env:]
    if words[:2] == ["pip", "install"]:
        for target in (w for w in words[2:] if not w.startswith("-")):
            match = re.fullmatch(r"(\.|sknets)(?:\[([\w,-]+)\])?", target)
            assert match, f"pip install {target}: not this project"
            missing = set((match.group(2) or "").split(",")) - extras - {""}
            assert not missing, f"no extra {missing} in setup.cfg"
    elif words[:3] == ["python", "-m", "sknets"] or words[:1] == ["sknets"]:
        args = words[3:] if words[0] == "python" else words[1:]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                build_parser().parse_args(args)
            except SystemExit as exc:   # --help exits 0; an unknown option 2
                assert exc.code == 0, f"bad options: {shlex.join(words)}"
    elif words[:1] in (["python"], ["bash"]) and words[1].endswith((".py", ".sh")):
        assert (ROOT / words[1]).is_file(), words[1]
    elif words[:3] == ["python", "-m", "pytest"] or words[:1] in (["ruff"], ["pre-commit"]):
        pass
    elif words[:2] == ["make", "-C"]:
        assert (ROOT / words[2] / "Makefile").is_file()
    elif words[:1] in (["git"], ["cd"], ["python"]) and "-m" not in words[:2]:
        pass
    else:
        raise AssertionError(f"unknown command in the docs: {shlex.join(words)}")


def test_shell_commands_exist():
    extras = _extras()
    checked = 0
    for page in pages():
        for block in parse(page):
            if block.lang not in SHELL_LANGS:
                continue
            for line in block.code.splitlines():
                line = line.split(" #")[0].strip().removeprefix("$ ")
                if not line or line.startswith("#"):
                    continue
                for command in re.split(r"\s*(?:&&|;)\s*", line):
                    _check_command(shlex.split(command), extras)
                    checked += 1
    assert checked >= 10


# ------------------------------------------------------------- API reference
def _public_names():
    import sknets

    modules = {"sknets": sknets.__all__}
    # sknets.training (the trainers) is the engine's interface to the
    # estimators, not yet a user-facing API: docs/development.rst says so.
    for name in ("layers", "metrics", "onnx", "plotting", "datasets", "gradcheck", "exceptions",
                 "callbacks", "backend", "initializers", "losses", "optimizers", "network"):
        module = __import__(f"sknets.{name}", fromlist=["_"])
        names = getattr(module, "__all__", None)
        if names is None:
            names = [n for n, v in vars(module).items()
                     if not n.startswith("_") and (inspect.isclass(v) or inspect.isfunction(v))
                     and v.__module__ == module.__name__]
        modules[f"sknets.{name}"] = names
    return modules


def test_api_reference_lists_every_public_name():
    text = (DOCS / "api.rst").read_text(encoding="utf-8")
    listed, module = set(), None
    for line in text.splitlines():
        m = re.match(r"\.\. currentmodule:: (\S+)", line)
        if m:
            module = m.group(1)
        elif re.match(r"   [A-Za-z_][\w]*$", line) and module:
            listed.add(f"{module}.{line.strip()}")
    # listed under sknets.exceptions
    documented_elsewhere = {"sknets.DivergenceError", "sknets.onnx.NotExportableError"}
    missing = [f"{mod}.{n}" for mod, names in _public_names().items() for n in names
               if f"{mod}.{n}" not in listed and f"{mod}.{n}" not in documented_elsewhere]
    assert not missing, f"not in docs/api.rst: {missing}"


# ---------------------------------------------------------------- built site
needs_build = pytest.mark.skipif(not (BUILD / "index.html").is_file(),
                                 reason="the docs are not built (make -C docs html)")


@needs_build
def test_built_pages_link_to_existing_files():
    broken = []
    for html in BUILD.rglob("*.html"):
        if "_static" in html.relative_to(BUILD).parts:
            continue   # the theme's templates
        text = html.read_text(encoding="utf-8", errors="replace")
        for target in re.findall(r'(?:href|src)="([^"#?]+)[^"]*"', text):
            if re.match(r"[a-z]+:", target) or target.startswith("//"):
                continue   # http:, mailto:, data: ...
            if not (html.parent / target).exists():
                broken.append(f"{html.relative_to(BUILD)} -> {target}")
    assert not broken, broken[:20]


@needs_build
def test_every_gallery_example_produced_its_figures():
    examples = sorted((ROOT / "examples").glob("plot_*.py"))
    assert examples
    for script in examples:
        page = BUILD / "auto_examples" / f"{script.stem}.html"
        assert page.is_file(), f"no gallery page for {script.name}"
        images = re.findall(r'src="\.\./(_images/sphx_glr_' + re.escape(script.stem)
                            + r'_\d+\.png)"', page.read_text(encoding="utf-8"))
        assert images, f"{script.name}: no figure in its gallery page"
        for image in images:
            assert (BUILD / image).stat().st_size > 10_000, image
