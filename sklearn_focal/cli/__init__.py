"""The ``sklearn-focal`` command line: demo, theory tables, rate-distortion codes."""
# SPDX-License-Identifier: BSD-3-Clause

from sklearn_focal.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
