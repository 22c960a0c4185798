"""Where numba caches the package's compiled kernels: never inside the package.

numba's default cache locator writes next to the source file, in
``sklearn_focal/__pycache__``, whenever that folder is writable. For a
non-editable install that is ``site-packages/sklearn_focal/__pycache__``; an
editable reinstall later leaves that folder behind, and Python then imports it
as an empty namespace package that shadows the editable install. So for the
files of this package only, the cache goes to a per-user directory:

1. ``NUMBA_CACHE_DIR`` when set (numba's own rule, unchanged);
2. else ``<user cache dir>/sklearn-focal/numba`` (``$XDG_CACHE_HOME`` or
   ``~/.cache`` on Linux, numba's ``appdirs`` rule elsewhere);
3. else, when that is not writable, a per-user folder in the temporary
   directory.

If none is writable the kernels are compiled without a cache; they are never
written into the installed package. Other numba users' functions keep numba's
default behaviour.

This module is the one place that reaches into numba's cache machinery
(``CacheImpl._locator_classes``, not a documented extension point); it supports
the names of numba 0.59 and of later releases.
"""
# SPDX-License-Identifier: BSD-3-Clause

import os
import tempfile
from pathlib import Path

from numba.core import caching

__all__ = ["PACKAGE_DIR", "cache_directory", "install"]

PACKAGE_DIR = Path(__file__).resolve().parents[1]
# Sources whose numba functions are inlined into kernels defined elsewhere.
_SHARED_KERNEL_SOURCES = (
    PACKAGE_DIR / "utils" / "_fastmath.py",
    PACKAGE_DIR / "utils" / "_row_kernels.py",
)

_CacheImpl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
_UserWideCacheLocator = (
    getattr(caching, "UserWideCacheLocator", None) or caching._UserWideCacheLocator
)
_UserProvidedCacheLocator = (
    getattr(caching, "UserProvidedCacheLocator", None)
    or caching._UserProvidedCacheLocator
)


def _user_cache_dir():
    """This package's per-user cache folder."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "sklearn-focal"
    if os.name == "posix" and not _is_macos():
        return Path.home() / ".cache" / "sklearn-focal"
    from numba.misc.appdirs import AppDirs

    # ~/Library/Caches/sklearn-focal, %LOCALAPPDATA%\sklearn-focal\Cache
    return Path(AppDirs(appname="sklearn-focal", appauthor=False).user_cache_dir)


def _is_macos():
    import sys

    return sys.platform == "darwin"


def cache_directory():
    """Return the candidate cache folders for this package's kernels, in order.

    Returns
    -------
    candidates : list of pathlib.Path
        The per-user cache folder, then a per-user folder in the temporary
        directory. ``NUMBA_CACHE_DIR``, when set, takes precedence over both
        (numba applies it before consulting this list).

    Examples
    --------
    >>> from sklearn_focal.utils._numba_cache import cache_directory
    >>> [path.name for path in cache_directory()][0]
    'numba'
    """
    user = getattr(os, "getuid", lambda: "user")()
    return [
        _user_cache_dir() / "numba",
        Path(tempfile.gettempdir()) / f"sklearn-focal-numba-{user}",
    ]


def _inside_package(py_file):
    try:
        return Path(py_file).resolve().is_relative_to(PACKAGE_DIR)
    except (OSError, ValueError):
        return False


class _PackageCacheLocator(_UserWideCacheLocator):
    """Cache this package's functions in a per-user folder, never in-tree."""

    def __init__(self, py_func, py_file, root):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        subpath = self.get_suitable_cache_subpath(py_file)
        self._cache_path = os.path.join(str(root), subpath)

    def get_source_stamp(self):
        """The stamp of the defining file and of every shared kernel source.

        Kernels inline helpers from other modules of the package (e.g.
        ``utils/_fastmath.py``), and numba only checks the defining file, so an
        edit of a shared helper would otherwise leave stale machine code.
        """
        stamps = [super().get_source_stamp()]
        for path in _SHARED_KERNEL_SOURCES:
            try:
                st = os.stat(path)
            except OSError:
                continue
            stamps.append((st.st_mtime, st.st_size))
        return tuple(stamps)

    @classmethod
    def from_function(cls, py_func, py_file):
        if not _inside_package(py_file) or not os.path.exists(py_file):
            return None
        for root in cache_directory():
            located = cls(py_func, py_file, root)
            try:
                located.ensure_cache_path()
            except OSError:
                continue
            return located
        return None


def install():
    """Put the package's locator right after numba's ``NUMBA_CACHE_DIR`` locator.

    Idempotent. Called when the compiled kernels are first imported.
    """
    classes = _CacheImpl._locator_classes
    if _PackageCacheLocator in classes:
        return
    position = 1 if classes and classes[0] is _UserProvidedCacheLocator else 0
    classes.insert(position, _PackageCacheLocator)
    # The in-tree locator must never take one of this package's files, even
    # when the per-user folders are unwritable.
    for index, locator in enumerate(list(classes)):
        if locator is _PackageCacheLocator or locator is _UserProvidedCacheLocator:
            continue
        if not getattr(locator, "_sklearn_focal_guarded", False):
            classes[index] = _guard(locator)


def _guard(locator):
    @classmethod
    def from_function(cls, py_func, py_file):
        if _inside_package(py_file):
            return None
        return locator.from_function.__func__(cls, py_func, py_file)

    return type(
        locator.__name__,
        (locator,),
        {"from_function": from_function, "_sklearn_focal_guarded": True},
    )


install()
