"""The package's layers: every import points down, never up or sideways.

The layout is documented in ``docs/developers.rst``. A module may import from
its own subpackage and from the subpackages of lower layers only; imports
inside functions count too, so a lazy import cannot hide a cycle.
"""

import ast
from pathlib import Path

import pytest

import sklearn_focal

PACKAGE = Path(__file__).resolve().parents[1] / "sklearn_focal"

#: layer of every subpackage (and top-level module); lower imports nothing higher
LAYERS = {
    "utils": 0,
    "exceptions": 0,
    "theory": 1,
    "losses": 1,
    "metrics": 1,
    "datasets": 1,
    "rate_distortion": 2,
    "calibration": 2,
    "neural_network": 2,
    "linear_model": 2,
    "plotting": 3,
    "cli": 4,
    "__init__": 5,
}
#: names importable from the top level (lazily), and the subpackage of each
TOP_LEVEL = {
    name: module.split(".")[1]
    for name, module in sklearn_focal._LAZY_ATTRIBUTES.items()
}
#: top-level constants any module may read
CONSTANTS = {"__version__"}


def _unit(path):
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else path.stem


def _imported_units(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError("relative import; the package uses absolute ones")
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] != "sklearn_focal":
                continue
            if len(parts) > 1:
                yield parts[1], node.lineno
            else:
                for alias in node.names:
                    if alias.name not in CONSTANTS:
                        yield TOP_LEVEL.get(alias.name, alias.name), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "sklearn_focal" and len(parts) > 1:
                    yield parts[1], node.lineno


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_unit_has_a_layer():
    units = {_unit(path) for path in MODULES}
    assert units == set(LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    unit = _unit(path)
    for imported, line in _imported_units(ast.parse(path.read_text())):
        if imported == unit:
            continue
        assert imported in LAYERS, f"{path.name}:{line} imports unknown {imported}"
        assert LAYERS[imported] < LAYERS[unit], (
            f"{path.relative_to(PACKAGE)}:{line}: {unit} (layer {LAYERS[unit]}) "
            f"imports {imported} (layer {LAYERS[imported]})"
        )
