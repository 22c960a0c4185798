"""Private helpers shared across sklearn_focal: numerics, dispatch rules, shims.

Nothing here is public API; the modules are imported by the package's own
modules only, and importing this package imports nothing else.
"""
# SPDX-License-Identifier: BSD-3-Clause
