"""``import sklearn_focal`` and its numpy-only modules never import torch."""

import subprocess
import sys
import textwrap
from pathlib import Path


def _assert_prints_ok(code):
    """Run ``code`` in a fresh interpreter; it must exit 0 and print ok."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_import_does_not_load_torch():
    code = textwrap.dedent(
        """
        import sys
        import sklearn_focal
        from sklearn_focal import theory
        sklearn_focal.theory.psi([0.6, 0.4], 2.0)
        sklearn_focal.theory.focal_minimizer([0.6, 0.4], 2.0)
        dir(sklearn_focal)
        loaded = sorted(
            name for name in ("torch", "skorch") if name in sys.modules
        )
        assert not loaded, loaded
        print("ok")
        """
    )
    _assert_prints_ok(code)


#: The subpackages that may import torch (and skorch); every other module of
#: the package is torch-free by the layout, and this test walks them all.
TORCH_SUBPACKAGES = ("sklearn_focal.losses", "sklearn_focal.neural_network")


def _torch_free_modules():
    """Every module of the package outside the torch subpackages, by its file.

    Found from the files, not with pkgutil.walk_packages, which imports every
    subpackage (torch ones included) to walk it.
    """
    package = Path(__file__).resolve().parents[1] / "sklearn_focal"
    names = []
    for path in sorted(package.rglob("*.py")):
        parts = ("sklearn_focal", *path.relative_to(package).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if not name.startswith(TORCH_SUBPACKAGES):
            names.append(name)
    assert len(names) > 30, names
    return names


def test_torch_free_modules_import_no_torch_nor_dask():
    """Every module outside losses/ and neural_network/ loads neither torch nor dask."""
    code = textwrap.dedent(
        f"""
        import importlib
        import sys
        for name in {_torch_free_modules()!r}:
            importlib.import_module(name)
        loaded = sorted(
            name for name in ("torch", "skorch", "dask") if name in sys.modules
        )
        assert not loaded, loaded
        print("ok")
        """
    )
    _assert_prints_ok(code)
