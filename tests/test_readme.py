"""The README's "Your own network" section runs as written: its ```python
blocks, executed in order in one namespace, and the summary table it shows."""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "Your own network"


def section_blocks(text, heading):
    """The fenced blocks ``[(language, code)]`` under the Markdown ``heading``,
    up to the next heading of the same or a higher level."""
    blocks, level, fence, lang, lines = [], None, False, None, []
    for line in text.splitlines():
        if line.startswith("```"):
            if fence:
                if level is not None:
                    blocks.append((lang, "\n".join(lines) + "\n"))
                fence, lines = False, []
            else:
                fence, lang = True, line[3:].strip()
            continue
        if fence:
            lines.append(line)
            continue
        match = re.match(r"(#+) (.*)", line)
        if match:
            depth = len(match.group(1))
            if level is None and match.group(2).strip() == heading:
                level = depth
            elif level is not None and depth <= level:
                break
    if level is None:
        raise LookupError(f"no heading {heading!r} in the README")
    return blocks


@pytest.fixture(scope="module")
def blocks():
    return section_blocks(README.read_text(encoding="utf-8"), SECTION)


def test_section_has_snippets(blocks):
    code = [c for lang, c in blocks if lang == "python"]
    assert len(code) >= 5
    text = "".join(code)
    for needed in ("NeuralNetClassifier(", "GridSearchCV(", "layers__", "feature_layers()",
                   ".transform(", ".summary()", "dropout=", "batch_normalization="):
        assert needed in text, needed


def test_snippets_run(blocks, capsys):
    namespace = {"__name__": "readme"}
    with threadpool_limits(1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")   # few epochs: ConvergenceWarning is expected
        for i, (lang, code) in enumerate(blocks):
            if lang == "python":
                exec(compile(code, f"README.md[{SECTION}, block {i}]", "exec"), namespace)
    out = capsys.readouterr().out

    # the summary table shown is the one the snippet prints
    tables = [c for lang, c in blocks if not lang and c.startswith("Layer ")]
    assert len(tables) == 1 and tables[0] in out
    # the frozen base kept its weights; the preset and its layer list agree
    base_conv, new_conv = namespace["base"].feature_layers()[1], namespace["new"].feature_layers()[1]
    assert not new_conv.trainable
    assert all(np.array_equal(base_conv.weights[k], new_conv.weights[k])
               for k in base_conv.weights)
    assert out.rstrip().splitlines()[-1] == "True"
    assert set(namespace["search"].best_params_) == {"layers__drop__rate", "layers__0__units"}


def test_sequences_section_runs_as_written(capsys):
    """The "Sequences and signals" snippets run in order, print the summary
    table the README shows, and the short Conv1D fit learns MNIST-1D."""
    pytest.importorskip("mnist1d")
    section = "Sequences and signals"
    blocks = section_blocks(README.read_text(encoding="utf-8"), section)
    code = [c for lang, c in blocks if lang == "python"]
    assert len(code) == 2 and "make_mnist1d()" in code[0] and "Residual(" in code[1]
    namespace = {"__name__": "readme"}
    with threadpool_limits(1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, snippet in enumerate(code):
            exec(compile(snippet, f"README.md[{section}, block {i}]", "exec"), namespace)
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "True"
    tables = [c for lang, c in blocks if not lang and c.startswith("Layer ")]
    assert len(tables) == 1 and tables[0] in out
    assert namespace["X"].shape == (5000, 40, 1)
def test_generative_models_snippets_run(capsys):
    """The "Generative models" section's blocks run as written."""
    blocks = section_blocks(README.read_text(encoding="utf-8"), "Generative models")
    code = [c for lang, c in blocks if lang == "python"]
    assert len(code) >= 2
    namespace = {"__name__": "readme"}
    with threadpool_limits(1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, text in enumerate(code):
            exec(compile(text, f"README.md[Generative models, block {i}]", "exec"), namespace)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "(200, 64) [7 7 7] True True"
    assert lines[1] == "True"
    assert "valid_c2st" in lines[2] and "d_loss" in lines[2]
    precision, recall = (float(v) for v in lines[3].strip("()").split(", "))
    assert 0 <= precision <= 1 and 0 <= recall <= 1
