"""Sphinx configuration of the sknets documentation.

Build: ``pip install ".[docs]"`` then ``make -C docs html`` (warnings are
errors; the site is in ``docs/_build/html``). The gallery runs every
``examples/plot_*.py`` with ``SKNETS_EXAMPLE_FAST=1`` (fewer epochs) unless
the environment sets ``SKNETS_EXAMPLE_FAST=0``.
"""

import os
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
autodoc_default_options = {"members": False, "inherited-members": False}
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
}
numpydoc_validation_exclude = {
    r"\.__init__$",
    r"\.__call__$",
    r"\.__repr__$",
}

# -- sphinx-gallery -----------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",        # run the plot_* scripts; others are shown
    "ignore_pattern": r"__init__\.py",
    "reset_argv": lambda gallery_conf, script_vars: [],
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
suppress_warnings = ["myst.header"]

# -- HTML ---------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sknets {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_show_sourcelink = False
