"""Sphinx configuration of the sknets documentation.

Build: ``pip install ".[docs]"`` then ``make -C docs html`` (warnings are
errors; the site is in ``docs/_build/html``). The gallery runs every
``examples/plot_*.py`` with ``SKNETS_EXAMPLE_FAST=1`` (fewer epochs) unless
the environment sets ``SKNETS_EXAMPLE_FAST=0``.
"""

import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))   # document this checkout's sknets

# The gallery's examples: short runs unless asked otherwise, headless, and
# their own figure files outside the source tree (sphinx-gallery keeps the
# figures it scrapes from the open matplotlib figures).
os.environ.setdefault("SKNETS_EXAMPLE_FAST", "1")
os.environ["MPLBACKEND"] = "Agg"
os.environ["SKNETS_EXAMPLE_OUTPUT"] = str(DOCS / "_build" / "example_files")

import sknets  # noqa: E402

project = "sknets"
author = "the sknets developers"
copyright = "2026, the sknets developers"
version = release = sknets.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "sg_execution_times.rst"]
templates_path = ["_templates"]
default_role = "literal"
nitpicky = False

# -- autodoc / autosummary / numpydoc ----------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# numpydoc validation of every documented public name; a finding is a
# warning, and the build turns warnings into errors (``-W``). Left out:
# See Also / Examples / Extended Summary sections (not required of every
# name) and a few layout checks that numpydoc's own docs leave optional.
numpydoc_validation_checks = {
    "all",
    "ES01",   # no extended summary
    "SA01",   # no See Also section
    "EX01",   # no Examples section
    "GL01",   # summary on the line after the opening quotes
    "SS06",   # summary over more than one line
    "RT02",   # the first line of a Returns entry may be a name
    "PR09",   # parameter descriptions ending with a period
    "RT05",   # return descriptions ending with a period
    "SS03",   # summary ending with a period
    "SS05",   # summary in the infinitive (numpydoc's "Returns" rule)
    "GL02",   # closing quotes on the line after the text
    "SA03",   # See Also descriptions starting with a capital
    "PR03",   # parameter order: the networks' shared text (sknets/_docs.py) goes by topic
}
numpydoc_validation_exclude = {
    r"\.__init__$",
    r"\.__call__$",
    r"\.__repr__$",
    # scikit-learn's own methods, inherited by every estimator and layer
    r"\.(get_params|set_params|get_metadata_routing|set_\w+_request|set_output|"
    r"fit_transform)$",
    # module constants: autodata shows their ``#:`` comment; numpydoc would
    # validate the docstring of their type (tuple, dict, bool)
    r"\.(ACTIVATIONS|FRUIT_NAMES|LOGIC_GATES|HAS_SKLEARN_CALLBACKS|STOCHASTIC_SOLVERS)$",
    # class attributes documented the same way (a loss's output activation,
    # a pooling layer's fusable activations)
    r"\.(out_activation|fuses_activation)$",
}



# scikit-learn's methods that every estimator inherits: the metadata-routing
# setters are noise here, and the docstrings of the others refer to labels
# and glossary terms of scikit-learn's own documentation.
_SKLEARN_NOISE = re.compile(r"set_\w+_request$|get_metadata_routing$|args$|with_traceback$|"
                            r"add_note$")   # the last three: BaseException's
_SKLEARN_ROLE = re.compile(
    r":(?:ref|term|func|class|meth|mod|attr):`(?:([^`<]*?)\s*<[^`>]*>|([^`]*))`")


def _skip_sklearn_noise(app, what, name, obj, skip, options):
    if _SKLEARN_NOISE.match(name):
        return True
    return None


def _plain_sklearn_roles(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", None) or ""
    if module.startswith("sklearn"):
        lines[:] = [_SKLEARN_ROLE.sub(lambda m: f"``{(m.group(1) or m.group(2)).strip()}``", line)
                    for line in lines]


# sknets' modules keep their references in the module docstring (``.. [2]
# ...``) and cite them in a class's or function's docstring (``[2]_``); the
# page of that class shows only its own docstring, so the cited entries are
# appended to it as its References section. The summary tables (autosummary)
# show the summary line without the citation marks.
_CITATION = re.compile(r"\s*\[(\w+)\]_")


def _module_references(module):
    text = getattr(sys.modules.get(module), "__doc__", None) or ""
    refs, key = {}, None
    for line in text.splitlines():
        m = re.match(r"\.\. \[(\w+)\]", line)
        if m:
            key = m.group(1)
            refs[key] = [line]
        elif key and line.startswith("   ") and line.strip():
            refs[key].append(line)
        else:
            key = None
    return refs


def _cited_references(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", None) or ""
    if not module.startswith("sknets"):
        return
    text = "\n".join(lines)
    cited = dict.fromkeys(m.group(1) for m in _CITATION.finditer(text))
    defined = set(re.findall(r"^\.\. \[(\w+)\]", text, flags=re.M))
    refs = _module_references(module)
    missing = [key for key in cited if key not in defined and key in refs]
    if not missing:
        return
    entries = [entry for key in missing for entry in refs[key]]
    if any(line.strip() == "References" for line in lines):
        at = next(i for i, line in enumerate(lines) if line.strip() == "References") + 2
        while at < len(lines) and lines[at].strip() != "" and not lines[at].startswith(".."):
            at += 1
        lines[at:at] = entries
        return
    # numpydoc's order: References before Examples
    section = ["References", "----------", *entries, ""]
    at = next((i for i, line in enumerate(lines) if line.strip() == "Examples"
               and i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}), None)
    if at is None:
        lines += ["", *section]
    else:
        lines[at:at] = section


def _summary_without_citations():
    from sphinx.ext import autosummary

    extract = autosummary.extract_summary

    def extract_summary(doc, document):
        return _CITATION.sub("", extract(doc, document))

    autosummary.extract_summary = extract_summary


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_noise)
    app.connect("autodoc-process-docstring", _plain_sklearn_roles, priority=400)
    app.connect("autodoc-process-docstring", _cited_references, priority=400)
    _summary_without_citations()


# -- sphinx-gallery -----------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",        # run the plot_* scripts; others are shown
    "ignore_pattern": r"__init__\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("sknets",),
    "backreferences_dir": "auto_examples/backreferences",
    "inspect_global_variables": False,
    "min_reported_time": 1,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "capture_repr": (),
    "show_memory": False,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
}

# -- MyST (the changelog and the benchmarks' results are Markdown files) ------
myst_heading_anchors = 3
# RESULTS.md is written for GitHub, where a heading may skip a level.
# benchmarks/README.md, included in the benchmarks page, links RESULTS.md as a
# file beside it (for GitHub); the page includes RESULTS.md itself, and
# tests/test_docs.py checks that the built pages' links resolve.
suppress_warnings = ["myst.header", "myst.xref_missing"]

# -- HTML ---------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sknets {release}"
html_static_path = []   # no custom CSS or images (yet)
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_show_sourcelink = False
