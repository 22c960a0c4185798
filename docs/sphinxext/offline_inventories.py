"""Offline fallback inventories for intersphinx.

The docs link to scikit-learn, skorch, PyTorch, NumPy and a few others through
intersphinx. Their ``objects.inv`` files are fetched from the web; when the
build machine is offline every fetch fails, and Sphinx reports a *warning*
(``failed to reach any of the inventories``) that ``-W`` turns into an error.

Sphinx only warns when *all* locations of a project fail. So each project in
``intersphinx_mapping`` lists its remote inventory first and a local fallback
second. The fallback is written here, at build time, from the packages
installed in the build environment: it holds the public names of each package
with the URL that package's documentation uses for them. Online, the real
inventory wins and the fallback is never read; offline, links still resolve
(to the same URLs) and the build stays warning-free.
"""
# SPDX-License-Identifier: BSD-3-Clause

import importlib
import inspect
import zlib
from pathlib import Path

_HEADER = (
    "# Sphinx inventory version 2\n"
    "# Project: {project}\n"
    "# Version: {version}\n"
    "# The remainder of this file is compressed using zlib.\n"
)


def _role(obj):
    if inspect.isclass(obj):
        return "py:class"
    if callable(obj):
        return "py:function"
    return "py:data"


def _public(module_name):
    """(qualified name, role) of the public names of a module."""
    try:
        module = importlib.import_module(module_name)
    except Exception:  # noqa: BLE001 - a missing optional package is fine
        return []
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_")]
    out = []
    for name in names:
        try:
            obj = getattr(module, name)
        except Exception:  # noqa: BLE001 - lazy or experimental attributes
            continue
        if inspect.ismodule(obj):
            continue
        out.append((f"{module_name}.{name}", _role(obj)))
    return out


def _sklearn():
    import sklearn

    modules = ["sklearn"] + [
        f"sklearn.{name}"
        for name in getattr(sklearn, "__all__", [])
        if not name.startswith("_")
    ]
    entries = []
    for module_name in modules:
        for qualname, role in _public(module_name):
            entries.append((qualname, role, f"modules/generated/{qualname}.html#$"))
    for term in (
        "array-like",
        "estimator",
        "meta-estimator",
        "classifier",
        "transformer",
        "predict_proba",
        "fit",
        "cv",
        "scorer",
        "random_state",
        "sample_weight",
        "n_jobs",
    ):
        entries.append((term, "std:term", f"glossary.html#term-{term}"))
    entries.append(
        (
            "metadata_routing",
            "std:label",
            "metadata_routing.html#metadata-routing",
            "Metadata Routing",
        )
    )
    entries.append(("glossary", "std:label", "glossary.html#$", "Glossary"))
    return entries


def _numpy():
    entries = []
    for qualname, role in _public("numpy"):
        entries.append((qualname, role, f"reference/generated/{qualname}.html#$"))
    entries += [
        ("numpy.ndarray", "py:class", "reference/generated/numpy.ndarray.html#$"),
        ("numpy.dtype", "py:class", "reference/generated/numpy.dtype.html#$"),
        ("numpy.random.Generator", "py:class", "reference/random/generator.html#$"),
        ("numpy.random.RandomState", "py:class", "reference/random/legacy.html#$"),
        (
            "numpy.random.default_rng",
            "py:function",
            "reference/random/generator.html#$",
        ),
        ("numpy.float64", "py:class", "reference/arrays.scalars.html#$"),
        ("numpy.float32", "py:class", "reference/arrays.scalars.html#$"),
        ("numpy.typing.ArrayLike", "py:data", "reference/typing.html#$"),
        ("numpy.typing.NDArray", "py:data", "reference/typing.html#$"),
    ]
    return entries


def _torch():
    entries = [
        ("torch.Tensor", "py:class", "tensors.html#$"),
        ("torch.device", "py:class", "tensor_attributes.html#$"),
        ("torch.dtype", "py:class", "tensor_attributes.html#$"),
        ("torch.autocast", "py:class", "amp.html#$"),
    ]
    for module_name in ("torch.nn", "torch.nn.functional", "torch.optim"):
        for qualname, role in _public(module_name):
            entries.append((qualname, role, f"generated/{qualname}.html#$"))
    for name in ("manual_seed", "softmax", "log_softmax", "logsumexp", "sigmoid"):
        entries.append(
            (f"torch.{name}", "py:function", f"generated/torch.{name}.html#$")
        )
    entries.append(
        ("torch.random.fork_rng", "py:function", "random.html#$"),
    )
    return entries


def _skorch():
    entries = []
    pages = {
        "skorch.net": "net.html",
        "skorch.classifier": "classifier.html",
        "skorch.regressor": "regressor.html",
        "skorch.callbacks": "callbacks.html",
        "skorch.dataset": "dataset.html",
        "skorch.helper": "helper.html",
    }
    for module_name, page in pages.items():
        for qualname, role in _public(module_name):
            entries.append((qualname, role, f"{page}#$"))
    entries += [
        ("skorch.NeuralNet", "py:class", "net.html#skorch.net.NeuralNet"),
        (
            "skorch.NeuralNetClassifier",
            "py:class",
            "classifier.html#skorch.classifier.NeuralNetClassifier",
        ),
    ]
    return entries


def _python():
    builtins = {
        "int": "library/functions.html#int",
        "float": "library/functions.html#float",
        "bool": "library/functions.html#bool",
        "str": "library/stdtypes.html#str",
        "dict": "library/stdtypes.html#dict",
        "list": "library/stdtypes.html#list",
        "tuple": "library/stdtypes.html#tuple",
        "callable": "library/functions.html#callable",
        "object": "library/functions.html#object",
        "ValueError": "library/exceptions.html#ValueError",
        "TypeError": "library/exceptions.html#TypeError",
        "ImportError": "library/exceptions.html#ImportError",
        "FloatingPointError": "library/exceptions.html#FloatingPointError",
        "enum.IntEnum": "library/enum.html#enum.IntEnum",
        "typing.NamedTuple": "library/typing.html#typing.NamedTuple",
        "dataclasses.dataclass": "library/dataclasses.html#dataclasses.dataclass",
    }
    entries = [(n, "py:class", u) for n, u in builtins.items()]
    entries.append(("None", "py:data", "library/constants.html#None"))
    entries += [
        ("generator", "std:term", "glossary.html#term-generator"),
        ("iterable", "std:term", "glossary.html#term-iterable"),
        ("bltin-boolean-values", "std:label", "library/stdtypes.html#$", "Boolean"),
    ]
    return entries


def _scipy():
    entries = []
    for module_name in ("scipy.optimize", "scipy.special", "scipy.stats"):
        for qualname, role in _public(module_name):
            entries.append((qualname, role, f"reference/generated/{qualname}.html#$"))
    return entries


def _matplotlib():
    return [
        ("matplotlib.axes.Axes", "py:class", "api/_as_gen/matplotlib.axes.Axes.html#$"),
        ("matplotlib.figure.Figure", "py:class", "api/figure_api.html#$"),
        (
            "matplotlib.lines.Line2D",
            "py:class",
            "api/_as_gen/matplotlib.lines.Line2D.html#$",
        ),
        (
            "matplotlib.pyplot.subplots",
            "py:function",
            "api/_as_gen/matplotlib.pyplot.subplots.html#$",
        ),
    ]


def _pandas():
    return [
        ("pandas.DataFrame", "py:class", "reference/api/pandas.DataFrame.html#$"),
        ("pandas.Series", "py:class", "reference/api/pandas.Series.html#$"),
    ]


_PROJECTS = {
    "sklearn": ("scikit-learn", "sklearn", _sklearn),
    "numpy": ("NumPy", "numpy", _numpy),
    "torch": ("PyTorch", "torch", _torch),
    "skorch": ("skorch", "skorch", _skorch),
    "python": ("Python", None, _python),
    "scipy": ("SciPy", "scipy", _scipy),
    "matplotlib": ("Matplotlib", "matplotlib", _matplotlib),
    "pandas": ("pandas", "pandas", _pandas),
}


def _version(package):
    if package is None:
        import sys

        return ".".join(map(str, sys.version_info[:2]))
    try:
        return importlib.import_module(package).__version__
    except Exception:  # noqa: BLE001
        return "unknown"


def write_inventory(key, path):
    """Write the fallback inventory of project ``key`` to ``path``."""
    project, package, builder = _PROJECTS[key]
    seen = set()
    lines = []
    for name, role, uri, *display in builder():
        if (name, role) in seen:
            continue
        seen.add((name, role))
        lines.append(f"{name} {role} -1 {uri} {display[0] if display else '-'}\n")
    header = _HEADER.format(project=project, version=_version(package))
    body = zlib.compress("".join(lines).encode("utf-8"))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.encode("utf-8") + body)
    return path


def intersphinx_mapping(remote, cache_dir):
    """Build ``intersphinx_mapping`` with a local fallback for every project.

    Parameters
    ----------
    remote : dict
        ``{key: base_url}`` of the online documentation.
    cache_dir : path-like
        Folder that receives the fallback inventories.

    Returns
    -------
    dict
        ``{key: (base_url, (remote_inventory, local_fallback))}``.
    """
    mapping = {}
    for key, url in remote.items():
        try:
            fallback = write_inventory(key, Path(cache_dir) / f"{key}.inv")
        except Exception:  # noqa: BLE001 - never break the build over a fallback
            mapping[key] = (url, None)
        else:
            mapping[key] = (url, (None, str(fallback)))
    return mapping
