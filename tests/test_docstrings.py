"""numpydoc validation of the public API, without building the docs.

Every public name in the API reference, and every public method and property
that sknets defines on a public class (the layer contract ``forward`` /
``backward`` included), has a numpydoc docstring that passes the checks the
documentation build applies (``docs/conf.py``'s ``numpydoc_validation_checks``,
read from there): a summary, every parameter with a type and a description,
a Returns section with descriptions.
"""

import ast
import inspect
import re

import pytest
from _snippets import ROOT

validate = pytest.importorskip("numpydoc.validate").validate

# scikit-learn's own methods, inherited by every estimator and layer.
SKLEARN = re.compile(r"(get_params|set_params|get_metadata_routing|set_\w+_request|set_output|"
                     r"fit_transform)$")


def _ignored_checks():
    """The checks that docs/conf.py leaves out of ``{"all", ...}``."""
    tree = ast.parse((ROOT / "docs" / "conf.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "")
                == "numpydoc_validation_checks"):
            checks = ast.literal_eval(node.value)
            assert "all" in checks
            return checks - {"all"}
    raise LookupError("numpydoc_validation_checks not in docs/conf.py")


def _documented_names():
    """``module.Name`` for every name listed in docs/api.rst."""
    text = (ROOT / "docs" / "api.rst").read_text(encoding="utf-8")
    names, module = [], None
    for line in text.splitlines():
        m = re.match(r"\.\. currentmodule:: (\S+)", line)
        if m:
            module = m.group(1)
        elif re.match(r"   [A-Za-z_]\w*$", line) and module:
            names.append(f"{module}.{line.strip()}")
    return names


def _targets():
    """Qualified names to validate: the public functions and classes, and the
    public methods and properties that sknets defines on those classes (each
    once, under the class that defines it)."""
    seen = {}
    for name in _documented_names():
        module, attr = name.rsplit(".", 1)
        obj = getattr(__import__(module, fromlist=["_"]), attr)
        if inspect.isfunction(obj):
            seen.setdefault(name, None)
        if not inspect.isclass(obj):
            continue
        seen.setdefault(name, None)
        for member, value in inspect.getmembers(obj):
            if member.startswith("_") or SKLEARN.match(member):
                continue
            owner = next(k for k in obj.__mro__ if member in vars(k))
            raw = vars(owner)[member]
            if not owner.__module__.startswith("sknets"):
                continue
            if inspect.isclass(value) or not (callable(value) or isinstance(raw, property)):
                continue   # class attributes: documented by their ``#:`` comment
            seen.setdefault(f"{owner.__module__}.{owner.__qualname__}.{member}", None)
    return sorted(seen)


IGNORED = _ignored_checks()


@pytest.mark.parametrize("name", _targets())
def test_numpydoc_docstring(name):
    errors = [f"{code}: {message}" for code, message in validate(name)["errors"]
              if code not in IGNORED]
    assert not errors, "\n".join(errors)
