"""The ``sklearn-focal`` command line: ``demo`` and ``rd``."""
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from sklearn_focal import __version__

#: ``rd --plot`` draws the bounds at every M up to this, then at most this
#: many geometrically spaced values up to ``--codewords``.
_PLOT_DENSE_M = 16
#: Largest N of ``rd --binomial N,P``: the local search of the optimized code
#: scores all N**2 / 2 swaps of N + 1 symbols, each in O(N) (4 minutes at
#: N = 1000 on two shared cores; memory stays about 30 MB).
BINOMIAL_MAX_N = 1000


def _theory_demo(out):
    from sklearn_focal import theory

    gammas = np.array([0.5, 1.0, 2.0, 3.0, 5.0])
    out.write("Confidence thresholds of the focal loss (Thm 8 of CVPR 2021)\n")
    out.write(f"  {'gamma':>7} {'tau_oc':>10} {'tau_uc':>10}\n")
    thresholds = zip(gammas, theory.tau_oc(gammas), theory.tau_uc(gammas), strict=True)
    for g, oc, uc in thresholds:
        out.write(f"  {g:7.2f} {oc:10.6f} {uc:10.6f}\n")
    out.write("  max q <= tau_oc: overconfident; max q >= tau_uc: underconfident\n")

    eta = np.array([0.6, 0.25, 0.1, 0.05])
    gamma = 2.0
    q_star = _minimize_focal_risk(eta, gamma)
    recovered = theory.psi(q_star, gamma)
    out.write(f"\nPsi recovers eta from the focal risk minimizer (gamma = {gamma})\n")
    out.write(
        f"  true posterior eta            : {np.array2string(eta, precision=6)}\n"
    )
    out.write(
        f"  focal risk minimizer q* (BFGS): {np.array2string(q_star, precision=6)}\n"
    )
    out.write(
        f"  recovered Psi(q*)             : {np.array2string(recovered, precision=6)}\n"
    )
    out.write(
        f"  max |Psi(q*) - eta|           : {np.max(np.abs(recovered - eta)):.1e}\n"
    )


def _minimize_focal_risk(eta, gamma):
    """Minimize the focal risk sum_i eta_i (1 - q_i)^gamma log(1/q_i) numerically."""
    from scipy.optimize import minimize
    from scipy.special import log_softmax

    from sklearn_focal.theory._focal_terms import focal_terms

    def risk(logits):
        log_q = log_softmax(logits)
        return float(np.sum(focal_terms(None, gamma, weights=eta, log_q=log_q)))

    result = minimize(risk, np.log(eta), method="BFGS", options={"gtol": 1e-12})
    return np.exp(log_softmax(result.x))


def _output_dir(text):
    """``--output-dir``: a writable folder, made here (before any training)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise argparse.ArgumentTypeError(
            f"cannot make the folder {text!r}: {exc.strerror}"
        ) from None
    if not os.access(path, os.W_OK):
        raise argparse.ArgumentTypeError(f"the folder {text!r} is not writable")
    return path


def _run_demo(args):
    from sklearn_focal.cli._demo import run_demo

    _theory_demo(sys.stdout)
    run_demo(quick=args.quick, output_dir=args.output_dir, random_state=args.seed)
    return 0


# ---------------------------------------------------------------------------
# rd
# ---------------------------------------------------------------------------


def _pmf_argument(text):
    try:
        values = np.array([float(v) for v in text.split(",")])
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--pmf must be comma-separated numbers, got {text!r}"
        ) from None
    if values.size < 2 or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise argparse.ArgumentTypeError(
            f"--pmf needs at least two finite, nonnegative numbers, got {text!r}"
        )
    if abs(values.sum() - 1.0) > 1e-9:
        raise argparse.ArgumentTypeError(
            f"--pmf must sum to 1, got {text!r} (sum {values.sum():.12g})"
        )
    return values


def _binomial_argument(text):
    try:
        n_text, p_text = text.split(",")
        n, p = int(n_text), float(p_text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--binomial must be N,P such as 100,0.5, got {text!r}"
        ) from None
    if n < 1 or not 0 < p < 1:
        raise argparse.ArgumentTypeError(
            f"--binomial needs N >= 1 and 0 < P < 1, got {text!r}"
        )
    if n > BINOMIAL_MAX_N:
        raise argparse.ArgumentTypeError(
            f"--binomial N is at most {BINOMIAL_MAX_N}, got {n}: the optimized "
            "code's swap search costs O(N**3) time (minutes at N = 1000). For "
            "larger sources use sklearn_focal.rate_distortion.optimized_code(pmf, "
            "M, gamma, max_iter=0) from Python (linear in N)"
        )
    from scipy.stats import binom

    return binom.pmf(np.arange(n + 1), n, p)


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _nonnegative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return value


def _plot_path(text):
    """``--plot``: a writable file path with an extension matplotlib can save."""
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        raise argparse.ArgumentTypeError(
            'needs matplotlib: pip install "sklearn-focal[plot]"'
        ) from None
    formats = FigureCanvasBase.get_supported_filetypes()
    path = Path(text)
    extension = path.suffix.lower().lstrip(".")
    if extension not in formats:
        what = f"extension .{extension}" if extension else "no extension"
        raise argparse.ArgumentTypeError(
            f"{text!r} has {what}; use one of "
            + ", ".join(f".{name}" for name in sorted(formats))
        )
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a directory, not a file name")
    folder = path.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK) or (
        path.exists() and not os.access(path, os.W_OK)
    ):
        raise argparse.ArgumentTypeError(f"{text!r} is not writable")
    return path


def _run_rd(args):
    from sklearn_focal import rate_distortion as rd

    pmf = args.pmf if args.pmf is not None else args.binomial
    gamma, n_codewords = args.gamma, args.codewords
    converse = rd.converse_bound(pmf, n_codewords, gamma)
    achievability = rd.achievability_bounds(pmf, n_codewords, gamma)
    code = rd.optimized_code(pmf, n_codewords, gamma)
    rate = np.log2(n_codewords)
    asymptotic = rd.asymptotic_distortion(pmf, rate)
    rows = [("converse bound (17)", converse)]
    support = int(np.count_nonzero(pmf))
    exact = support <= rd.EXACT_MAX_SUPPORT
    if exact:
        rows.append(("exact optimum d*", rd.exact_distortion(pmf, n_codewords, gamma)))
    rows += [
        ("optimized code (ours)", code.distortion),
        ("code (26)-(27), eq. (28)", achievability["eq28"]),
        ("achievability (22)", achievability["eq22"]),
        ("achievability (23)", achievability["eq23"]),
        (f"asymptotic [H - R]+, R = {rate:.3g}", asymptotic),
    ]
    print(
        f"Focal-loss source coding: |X| = {pmf.size}, M = {n_codewords}, "
        f"gamma = {gamma:g} (bits)"
    )
    for name, value in rows:
        print(f"  {name:<34} {float(value):.6f}")
    if not exact:
        print(
            f"The exact optimum d* is left out: the support has {support} symbols, "
            f"more than EXACT_MAX_SUPPORT = {rd.EXACT_MAX_SUPPORT} (its cost "
            "grows as 3**n)."
        )
    if args.plot:
        try:
            _plot_rd(pmf, gamma, n_codewords, args.plot)
        except (OSError, ValueError, RuntimeError) as exc:
            print(
                f"sklearn-focal rd: error: could not write {args.plot}: {exc}",
                file=sys.stderr,
            )
            return 1
        print(f"Figure written to {args.plot}")
    return 0


def _plot_rd(pmf, gamma, n_codewords, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklearn_focal.plotting import RateDistortionDisplay

    dense = np.arange(2, _PLOT_DENSE_M + 1)
    if n_codewords > _PLOT_DENSE_M:
        far = np.geomspace(_PLOT_DENSE_M + 1, n_codewords, _PLOT_DENSE_M)
        dense = np.r_[dense, np.round(far).astype(np.int64)]
    grid = np.unique(np.r_[dense, n_codewords])
    display = RateDistortionDisplay.from_pmf(pmf, gamma=gamma, n_codewords=grid)
    display.plot()
    display.figure_.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(display.figure_)


# ---------------------------------------------------------------------------


def build_parser():
    """The argument parser of ``sklearn-focal``."""
    parser = argparse.ArgumentParser(
        prog="sklearn-focal",
        description="Focal loss: posterior recovery, calibration and rate-distortion.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {__version__}",
        help="print the version of sklearn-focal and exit",
    )
    sub = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="COMMAND",
        help="demo or rd; 'sklearn-focal COMMAND --help' lists its options",
    )

    demo = sub.add_parser(
        "demo",
        help="train CE and focal models, recover posteriors, report calibration",
    )
    demo.add_argument(
        "--quick", action="store_true", help="a seconds-long smoke run (small data)"
    )
    demo.add_argument(
        "--output-dir",
        type=_output_dir,
        default=None,
        help="folder for the reliability diagrams (default: a new folder here)",
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(func=_run_demo)

    rd = sub.add_parser(
        "rd",
        help="focal-loss lossy source coding bounds and codes (Dytso & Cardone)",
    )
    source = rd.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--pmf",
        type=_pmf_argument,
        help="source pmf as comma-separated probabilities, e.g. 0.5,0.3,0.2",
    )
    source.add_argument(
        "--binomial",
        type=_binomial_argument,
        help=f"Binomial(N, P) source, e.g. 100,0.5 (N <= {BINOMIAL_MAX_N})",
    )
    rd.add_argument(
        "--gamma",
        type=_nonnegative_float,
        default=1.0,
        help="focus parameter gamma >= 0 of the focal distortion (default 1)",
    )
    rd.add_argument(
        "--codewords",
        type=_positive_int,
        default=2,
        help="number of messages M >= 1 the source is compressed to (default 2)",
    )
    rd.add_argument(
        "--plot",
        type=_plot_path,
        default=None,
        metavar="FILE",
        help="also draw the bounds against M into FILE (.png, .pdf, .svg, ...)",
    )
    rd.set_defaults(func=_run_rd)
    return parser


def main(argv=None):
    """Entry point of the ``sklearn-focal`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
