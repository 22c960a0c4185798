"""``import sklearn_focal`` and its numpy-only modules never import torch."""

import subprocess
import sys
import textwrap


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


TORCH_FREE_MODULES = [
    "sklearn_focal.theory",
    "sklearn_focal.metrics",
    "sklearn_focal.rate_distortion",
    "sklearn_focal.plotting",
    "sklearn_focal.datasets",
    "sklearn_focal.exceptions",
    "sklearn_focal.cli",
    "sklearn_focal.utils.validation",
    "sklearn_focal._posterior",
    "sklearn_focal._temperature",
    "sklearn_focal._rate_distortion",
]


def test_torch_free_modules_import_no_torch_nor_dask():
    """Every torch-free module, and the calibrators, load neither torch nor dask."""
    code = textwrap.dedent(
        f"""
        import importlib
        import sys
        for name in {TORCH_FREE_MODULES!r}:
            importlib.import_module(name)
        loaded = sorted(
            name for name in ("torch", "skorch", "dask") if name in sys.modules
        )
        assert not loaded, loaded
        print("ok")
        """
    )
    _assert_prints_ok(code)
