"""The installed package never writes into its own folder.

A non-editable install once cached numba kernels in
``site-packages/sklearn_focal/__pycache__``; a later editable reinstall left that
folder behind and it shadowed the editable install as an empty namespace
package. These tests copy the package into a temporary "site-packages", compile
a cached kernel from inside it in a fresh interpreter, and look where the cache
files went.
"""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sklearn_focal"

PROBE = textwrap.dedent(
    """
    from numba import njit

    from sklearn_focal.utils import _numba_cache  # noqa: F401


    @njit(cache=True)
    def add_one(x):
        return x + 1
    """
)


def _site_packages(tmp_path):
    site = tmp_path / "site-packages"
    shutil.copytree(
        PACKAGE, site / "sklearn_focal", ignore=shutil.ignore_patterns("__pycache__")
    )
    (site / "sklearn_focal" / "_probe.py").write_text(PROBE)
    return site


def _run_probe(site, env_updates, cwd):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(env_updates, PYTHONPATH=str(site), PYTHONDONTWRITEBYTECODE="1")
    code = "from sklearn_focal._probe import add_one; assert add_one(41) == 42"
    subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, check=True)


def _cache_files(folder):
    return sorted(p for p in Path(folder).rglob("*") if p.suffix in {".nbi", ".nbc"})


@pytest.mark.parametrize("use_numba_cache_dir", [False, True])
def test_kernel_cache_is_written_outside_the_installed_package(
    tmp_path, use_numba_cache_dir
):
    site = _site_packages(tmp_path)
    user_cache, numba_dir = tmp_path / "xdg", tmp_path / "numba-dir"
    env = {"XDG_CACHE_HOME": str(user_cache)}
    if use_numba_cache_dir:
        env["NUMBA_CACHE_DIR"] = str(numba_dir)
    _run_probe(site, env, cwd=tmp_path)

    assert _cache_files(site) == []
    expected, other = (
        (numba_dir, user_cache) if use_numba_cache_dir else (user_cache, numba_dir)
    )
    written = _cache_files(expected)
    assert any("_probe.add_one" in p.name for p in written), written
    assert _cache_files(other) == []
    if not use_numba_cache_dir:
        assert all(p.is_relative_to(user_cache / "sklearn-focal") for p in written)


def test_unwritable_user_cache_falls_back_to_temp_not_the_package(tmp_path):
    site = _site_packages(tmp_path)
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("a file cannot hold a cache folder")
    temp = tmp_path / "tmp"
    temp.mkdir()
    _run_probe(
        site,
        {"XDG_CACHE_HOME": str(not_a_folder), "TMPDIR": str(temp)},
        cwd=tmp_path,
    )
    assert _cache_files(site) == []
    assert any("_probe.add_one" in p.name for p in _cache_files(temp))


def test_other_modules_keep_numbas_default_locator(tmp_path):
    """Only this package's files are redirected: a user's module caches in-tree."""
    site = _site_packages(tmp_path)
    user_module = tmp_path / "user_code"
    user_module.mkdir()
    (user_module / "mine.py").write_text(PROBE.replace("add_one", "mine_add_one"))
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(
        PYTHONPATH=os.pathsep.join([str(site), str(user_module)]),
        XDG_CACHE_HOME=str(tmp_path / "xdg"),
    )
    code = "from mine import mine_add_one; assert mine_add_one(1) == 2"
    subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, check=True)
    assert any("mine_add_one" in p.name for p in _cache_files(user_module))


def test_compiled_kernels_install_the_locator():
    from numba.core import caching

    from sklearn_focal.losses import _kernels as _loss_kernels
    from sklearn_focal.theory import _kernels as _theory_kernels
    from sklearn_focal.utils import _fastmath, _numba_cache

    locators = getattr(caching, "CacheImpl", None) or caching._CacheImpl
    assert None not in (_loss_kernels, _theory_kernels, _fastmath)
    assert _numba_cache._PackageCacheLocator in locators._locator_classes


def test_editing_a_shared_kernel_helper_invalidates_the_cache(tmp_path):
    """Kernels inline utils/_fastmath.py helpers: editing it must recompile them."""
    site = _site_packages(tmp_path)
    fastmath = site / "sklearn_focal" / "utils" / "_fastmath.py"
    fastmath.write_text(
        fastmath.read_text() + "\n\n@njit(inline='always')\ndef _probe_offset():\n"
        "    return 1\n"
    )
    (site / "sklearn_focal" / "_probe.py").write_text(
        PROBE.replace("return x + 1", "return x + _probe_offset()").replace(
            "from numba import njit",
            "from numba import njit\n\nfrom sklearn_focal.utils._fastmath import "
            "_probe_offset",
        )
    )
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    _run_probe(site, env, cwd=tmp_path)  # compiles and caches add_one = x + 1
    text = fastmath.read_text().replace("    return 1\n", "    return 2\n")
    fastmath.write_text(text)
    os.utime(fastmath, (1e9, 1e9))  # a different stamp whatever the clock
    env_path = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env_path.update(env, PYTHONPATH=str(site), PYTHONDONTWRITEBYTECODE="1")
    code = "from sklearn_focal._probe import add_one; print(add_one(41))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env_path,
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert out.strip() == "43"
