"""Sphinx configuration of the sklearn-focal documentation.

Build (warnings are errors, the example gallery is executed)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Set ``SKLEARN_FOCAL_DOCS_NO_GALLERY=1`` to skip running the examples while
editing prose.
"""
# SPDX-License-Identifier: BSD-3-Clause

import os
import sys
import tempfile
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "sphinxext"))

from offline_inventories import intersphinx_mapping as _intersphinx_mapping

import sklearn_focal

# -- Project -----------------------------------------------------------------

project = "sklearn-focal"
author = "sklearn-focal developers"
copyright = "2026, sklearn-focal developers"
release = sklearn_focal.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",  # CHANGELOG.md, the one changelog, included by changelog.rst
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_templates",
    "sphinxext",
    "auto_examples/*.ipynb",
    "auto_examples/**/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/**/*.py",
    "auto_examples/*.zip",
    "**/sg_execution_times.rst",
]
root_doc = "index"
default_role = "literal"
nitpicky = False

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
autoclass_content = "class"

# numpydoc: sklearn's style. Class members are listed by our own templates.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {
    "array-like": ":term:`array-like <sklearn:array-like>`",
    "estimator": ":term:`estimator <sklearn:estimator>`",
    "ndarray": "numpy.ndarray",
    "DataFrame": "pandas.DataFrame",
    "Axes": "matplotlib.axes.Axes",
    "Figure": "matplotlib.figure.Figure",
    "RandomState": "numpy.random.RandomState",
    "Generator": "numpy.random.Generator",
    "Tensor": "torch.Tensor",
}
numpydoc_xref_ignore = {
    "of",
    "or",
    "and",
    "shape",
    "default",
    "optional",
    "instance",
    "n_samples",
    "n_classes",
    "n_features",
    "n_symbols",
    "n_cells",
    "n_bins",
    "n_codewords",
    "same",
    "as",
    "the",
    "in",
    "to",
    "type",
    "objects",
    "values",
    "see",
    "skorch",
}

# -- API coverage --------------------------------------------------------------
# Every public name must be in api.rst, and every name in api.rst must exist.
# Checked at every build, so -W turns a forgotten name into an error.

_API_MODULES = (
    "theory",
    "exceptions",
    "losses",
    "metrics",
    "plotting",
    "datasets",
    "rate_distortion",
    "linear_model",
)


def _documented_names(api_rst):
    """{module: names} listed in the autosummary blocks of api.rst."""
    documented = {}
    module = None
    in_autosummary = False
    for line in api_rst.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith(".. currentmodule::"):
            module = stripped.split("::", 1)[1].strip()
            in_autosummary = False
        elif stripped.startswith(".. autosummary::"):
            in_autosummary = True
        elif stripped.startswith(".. ") or (line and not line.startswith(" ")):
            in_autosummary = False
        elif in_autosummary and stripped and not stripped.startswith(":"):
            documented.setdefault(module, set()).add(stripped)
    return documented


def _check_api_coverage(app):
    import importlib

    from sphinx.util import logging

    logger = logging.getLogger("sklearn_focal.api_coverage")
    documented = _documented_names(HERE / "api.rst")
    expected = {"sklearn_focal": set(sklearn_focal._LAZY_ATTRIBUTES)}
    for name in _API_MODULES:
        module_name = f"sklearn_focal.{name}"
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            logger.warning("api.rst: cannot import %s: %s", module_name, exc)
            continue
        expected[module_name] = set(getattr(module, "__all__", ()))
    for module_name, names in expected.items():
        missing = sorted(names - documented.get(module_name, set()))
        if missing:
            logger.warning("api.rst does not document %s: %s", module_name, missing)
    for module_name, names in documented.items():
        extra = sorted(names - expected.get(module_name, set()))
        if extra:
            logger.warning(
                "api.rst lists names not public in %s: %s", module_name, extra
            )


def setup(app):
    app.connect("builder-inited", _check_api_coverage)


# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_static_path = ["_static"]
html_title = f"sklearn-focal {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sg_download_links", "sg_launcher_links"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
    "navigation_with_keys": False,
}
html_sidebars = {"install": [], "changelog": []}
html_show_sourcelink = False

# -- Intersphinx ---------------------------------------------------------------
# The remote inventory is tried first; a local fallback written from the
# installed packages keeps an offline build warning-free (see
# sphinxext/offline_inventories.py).

intersphinx_timeout = 10
intersphinx_mapping = _intersphinx_mapping(
    {
        "python": "https://docs.python.org/3",
        "numpy": "https://numpy.org/doc/stable",
        "scipy": "https://docs.scipy.org/doc/scipy",
        "sklearn": "https://scikit-learn.org/stable",
        "torch": "https://docs.pytorch.org/docs/stable",
        "skorch": "https://skorch.readthedocs.io/en/stable",
        "matplotlib": "https://matplotlib.org/stable",
        "pandas": "https://pandas.pydata.org/docs",
    },
    Path(tempfile.gettempdir()) / "sklearn-focal-docs-intersphinx",
)

# -- Example gallery ---------------------------------------------------------

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

# Examples must stay quiet: a warning in an example is a bug in the example.
warnings.filterwarnings("ignore", category=DeprecationWarning, module="skorch")


sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "subsection_order": [
        "../examples/theory",
        "../examples/classification",
        "../examples/calibration",
        "../examples/detection",
        "../examples/rate_distortion",
        "../examples/one_bit",
    ],
    "within_subsection_order": "FileNameSortKey",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py|run_all\.py",
    "plot_gallery": "False"
    if os.environ.get("SKLEARN_FOCAL_DOCS_NO_GALLERY")
    else "True",
    "doc_module": ("sklearn_focal",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_focal": None},
    "default_thumb_file": None,
    "remove_config_comments": True,
    "reset_modules": ("matplotlib", "gallery_reset.reset_state"),
    "min_reported_time": 0,
    "show_memory": False,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "only_warn_on_example_error": False,
    "abort_on_example_error": False,
}
