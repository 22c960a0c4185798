"""The ``sklearn-focal`` command line."""

import numpy as np
import pytest

from sklearn_focal import cli


def test_rd_prints_all_bounds_in_order(capsys):
    assert (
        cli.main(["rd", "--pmf", "0.5,0.3,0.2", "--gamma", "1", "--codewords", "2"])
        == 0
    )
    out = capsys.readouterr().out
    values = {}
    for line in out.splitlines()[1:]:
        name, value = line.rsplit(maxsplit=1)
        values[name.strip()] = float(value)
    converse = values["converse bound (17)"]
    exact = values["exact optimum d*"]
    ours = values["optimized code (ours)"]
    eq28 = values["code (26)-(27), eq. (28)"]
    assert converse <= exact + 1e-12 <= ours + 2e-12 <= eq28 + 3e-12
    assert eq28 <= values["achievability (22)"] + 1e-12
    # The exact optimum equals the best of the four codes with at most 2 cells.
    pmf = np.array([0.5, 0.3, 0.2])
    from sklearn_focal.theory import min_focal_entropy

    def cell_cost(cell):
        mass = pmf[cell].sum()
        return mass * min_focal_entropy(pmf[cell] / mass, 1.0, base=2)

    best = min(cell_cost([0, 1, 2]), *(cell_cost(c) for c in ([0, 1], [0, 2], [1, 2])))
    assert exact == pytest.approx(best, abs=5e-7)


def test_rd_binomial_and_plot(tmp_path, capsys):
    path = tmp_path / "bounds.png"
    cli.main(
        [
            "rd",
            "--binomial",
            "20,0.5",
            "--gamma",
            "2",
            "--codewords",
            "3",
            "--plot",
            str(path),
        ]
    )
    assert path.stat().st_size > 1000
    assert "achievability (23)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["rd", "--pmf", "0.5,x"], "comma-separated"),
        (["rd", "--pmf", "0.5,0.6"], "sum to 1"),
        (["rd", "--pmf=-0.5,1.5"], "nonnegative"),
        (["rd", "--binomial", "100"], "N,P"),
        (["rd", "--binomial", "100,1.5"], "0 < P < 1"),
        (["rd", "--pmf", "0.5,0.5", "--codewords", "0"], ">= 1"),
        (["rd", "--pmf", "0.5,0.5", "--gamma", "-1"], ">= 0"),
        (["rd"], "required"),
        (["rd", "--pmf", "0.5,0.5", "--binomial", "3,0.5"], "not allowed"),
    ],
)
def test_rd_bad_arguments_are_argparse_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_demo_quick_writes_tables_and_figures(tmp_path, capsys):
    assert cli.main(["demo", "--quick", "--output-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "tau_oc" in out
    for dataset in ("digits", "synthetic"):
        assert f"{dataset}: held-out test set" in out
    # KL is reported where the posterior is known (synthetic only).
    assert out.count(" KL") == 1
    figures = sorted(tmp_path.glob("reliability_*.png"))
    assert len(figures) == 6
    assert all(f.stat().st_size > 5000 for f in figures)
    # Psi and temperature scaling never change a prediction: per model, the
    # three outputs share the accuracy column.
    accuracies = {}
    dataset = None
    for line in out.splitlines():
        if line.endswith("held-out test set"):
            dataset = line.split(":")[0]
        tokens = line.split()
        for position, token in enumerate(tokens):
            if token in ("raw", "Psi", "TS_NLL") and position > 0:
                model = " ".join(tokens[:position])
                accuracies.setdefault((dataset, model), set()).add(tokens[position + 1])
    assert len(accuracies) == 6
    assert all(len(values) == 1 for values in accuracies.values()), accuracies


def test_no_subcommand_is_an_error(capsys):
    with pytest.raises(SystemExit):
        cli.main([])
