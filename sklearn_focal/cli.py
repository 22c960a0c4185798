"""The ``sklearn-focal`` command line."""
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import sys

import numpy as np


def _theory_demo(out):
    from sklearn_focal import theory

    gammas = np.array([0.5, 1.0, 2.0, 3.0, 5.0])
    out.write(
        "Confidence thresholds of the focal loss (Charoenphakdee et al., Thm 8)\n"
    )
    out.write(f"{'gamma':>7} {'tau_oc':>10} {'tau_uc':>10}\n")
    thresholds = zip(gammas, theory.tau_oc(gammas), theory.tau_uc(gammas), strict=True)
    for g, oc, uc in thresholds:
        out.write(f"{g:7.2f} {oc:10.6f} {uc:10.6f}\n")

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

    def risk(logits):
        log_q = log_softmax(logits)
        return float(np.sum(eta * (-np.expm1(log_q)) ** gamma * -log_q))

    result = minimize(risk, np.log(eta), method="BFGS", options={"gtol": 1e-12})
    return np.exp(log_softmax(result.x))


def _run_demo(args):
    _theory_demo(sys.stdout)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="sklearn-focal",
        description="Focal loss: posterior recovery, calibration and rate-distortion.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the end-to-end demo on built-in data")
    demo.set_defaults(func=_run_demo)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
