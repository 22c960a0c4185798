"""The ``sklearn-focal`` command line."""

import numpy as np
import pytest

from sklearn_focal import cli
from sklearn_focal.cli import _main as cli_main


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
        (["rd", "--binomial", "1001,0.5"], "at most 1000"),
        (["rd", "--binomial", "10000000000,0.5"], "at most 1000"),
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
    # No output changes a prediction: per model, the four outputs share the
    # accuracy column. The closing words follow from the tables.
    table = _demo_tables(out)
    assert len(table) == 6
    for (dataset, model), rows in table.items():
        assert set(rows) == {"raw", "Psi", "TS_NLL", "FTS"}
        assert len({row["acc"] for row in rows.values()}) == 1, (dataset, model)
    closing = out.split("Reliability diagrams written")[0].splitlines()
    assert "No calibrator changed a prediction" in out
    for dataset in ("digits", "synthetic"):
        models = {m: rows for (d, m), rows in table.items() if d == dataset}
        winners = {
            m: min(rows, key=lambda o: rows[o]["NLL"]) for m, rows in models.items()
        }
        line = next(
            x
            for x in out.splitlines()
            if x.startswith("  lowest test NLL") and dataset in x
        )
        for model, output in winners.items():
            assert f"{model}: {output}" in line
        words = next(x for x in closing if x.startswith(f"{dataset}: Psi"))
        focal = [m for m in models if m != "cross-entropy"]
        hurts = sum(models[m]["Psi"]["NLL"] > models[m]["raw"]["NLL"] for m in focal)
        helps = sum(models[m]["Psi"]["NLL"] < models[m]["raw"]["NLL"] for m in focal)
        if hurts == len(focal):
            assert "raised the test NLL of every" in words
        elif helps == len(focal):
            assert "lowered the test NLL of every" in words
        else:
            assert f"lowered the test NLL of {helps} and raised it for {hurts}" in words
        for output in set(winners.values()):
            k = list(winners.values()).count(output)
            assert f"{output} for {k} model" in words


def _demo_tables(out):
    """The demo's tables: {(dataset, model): {output: {column: value}}}."""
    table, dataset, columns = {}, None, None
    for line in out.splitlines():
        if line.endswith("held-out test set"):
            dataset = line.split(":")[0]
            continue
        tokens = line.split()
        if tokens[:2] == ["model", "output"]:
            columns = tokens[2:]
            continue
        for position, token in enumerate(tokens):
            if token in ("raw", "Psi", "TS_NLL", "FTS") and position > 0:
                model = " ".join(tokens[:position])
                try:
                    values = [float(v) for v in tokens[position + 1 :]]
                except ValueError:
                    break  # a line of words, not of the table
                row = dict(zip(columns, values, strict=True))
                table.setdefault((dataset, model), {})[token] = row
                break
    return table


def test_no_subcommand_is_an_error(capsys):
    with pytest.raises(SystemExit):
        cli.main([])


# --------------------------------------------------------------------------
# Trust at the edges
# --------------------------------------------------------------------------


def _argparse_error(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    captured = capsys.readouterr()
    assert exc.value.code == 2
    assert captured.out == ""
    assert "Traceback" not in captured.err
    return captured.err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "name, message",
    [
        ("bounds.xyz", "extension .xyz; use one of"),
        ("bounds", "no extension; use one of"),
        ("missing/bounds.png", "does not exist"),
    ],
)
def test_bad_plot_path_is_an_argparse_error(
    tmp_path, capsys, monkeypatch, name, message
):
    calls = []
    monkeypatch.setattr(
        "sklearn_focal.rate_distortion.converse_bound",
        lambda *a, **k: calls.append(a),
    )
    line = _argparse_error(
        ["rd", "--pmf", "0.5,0.5", "--plot", str(tmp_path / name)], capsys
    )
    assert line.startswith("sklearn-focal rd: error: argument --plot:")
    assert message in line
    assert ".png" in line or "does not exist" in line
    assert calls == []  # refused before any computation


def test_plot_path_that_is_a_folder(tmp_path, capsys):
    folder = tmp_path / "out.png"
    folder.mkdir()
    line = _argparse_error(["rd", "--pmf", "0.5,0.5", "--plot", str(folder)], capsys)
    assert "is a directory" in line


def test_plot_extensions_are_matplotlib_formats(tmp_path, capsys):
    from matplotlib.backend_bases import FigureCanvasBase

    path = tmp_path / "bounds.SVG"  # case does not matter, as for savefig
    assert "svg" in FigureCanvasBase.get_supported_filetypes()
    assert cli.main(["rd", "--pmf", "0.5,0.3,0.2", "--plot", str(path)]) == 0
    assert path.read_text().lstrip().startswith("<?xml")
    assert f"Figure written to {path}" in capsys.readouterr().out


def test_unwritable_plot_reports_one_line(tmp_path, capsys, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(cli_main, "_plot_rd", fail)
    code = cli.main(["rd", "--pmf", "0.5,0.5", "--plot", str(tmp_path / "a.png")])
    err = capsys.readouterr().err
    assert code == 1
    assert (
        err.strip()
        == f"sklearn-focal rd: error: could not write {tmp_path / 'a.png'}: disk full"
    )


def test_plot_grid_stays_small_for_huge_codebooks(tmp_path, monkeypatch):
    seen = {}

    class Recorder:
        @classmethod
        def from_pmf(cls, pmf, gamma, n_codewords):
            seen["grid"] = n_codewords
            raise OSError("stop here")

    monkeypatch.setattr("sklearn_focal.plotting.RateDistortionDisplay", Recorder)
    cli.main(
        [
            "rd",
            "--pmf",
            "0.5,0.5",
            "--codewords",
            str(10**9),
            "--plot",
            str(tmp_path / "a.png"),
        ]
    )
    grid = seen["grid"]
    assert grid.size <= 40 and grid[0] == 2 and grid[-1] == 10**9
    assert np.all(np.diff(grid) > 0)
    np.testing.assert_array_equal(grid[:15], np.arange(2, 17))


def test_bad_output_dir_is_an_argparse_error(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("")
    line = _argparse_error(["demo", "--output-dir", str(afile)], capsys)
    assert "exists and is not a folder" in line
    line = _argparse_error(["demo", "--output-dir", str(afile / "sub")], capsys)
    assert "cannot make the folder" in line


def test_version(capsys):
    import sklearn_focal

    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert (
        capsys.readouterr().out.strip() == f"sklearn-focal {sklearn_focal.__version__}"
    )


def test_every_option_has_help():
    parser = cli.build_parser()
    subparsers = [action for action in parser._actions if action.dest == "command"][
        0
    ].choices
    for name, sub in [("sklearn-focal", parser), *subparsers.items()]:
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings} has no help"
    help_text = subparsers["rd"].format_help()
    assert "focus parameter gamma" in help_text
    assert "number of messages M" in help_text


def test_rd_says_when_the_exact_optimum_is_left_out(capsys):
    from sklearn_focal.rate_distortion import EXACT_MAX_SUPPORT

    # M >= support: the codes are trivial, only the exact optimum's limit counts
    m = str(EXACT_MAX_SUPPORT + 1)
    assert (
        cli.main(["rd", "--binomial", f"{EXACT_MAX_SUPPORT},0.5", "--codewords", m])
        == 0
    )
    out = capsys.readouterr().out  # support EXACT_MAX_SUPPORT + 1
    assert not any(line.startswith("  exact optimum") for line in out.splitlines())
    assert (
        f"The exact optimum d* is left out: the support has {EXACT_MAX_SUPPORT + 1} "
        f"symbols, more than EXACT_MAX_SUPPORT = {EXACT_MAX_SUPPORT}"
    ) in out
    assert (
        cli.main(["rd", "--binomial", f"{EXACT_MAX_SUPPORT - 1},0.5", "--codewords", m])
        == 0
    )
    out = capsys.readouterr().out
    assert any(line.startswith("  exact optimum d*") for line in out.splitlines())
    assert "left out" not in out


def test_demo_writes_to_the_stdout_of_the_call_not_of_the_import(tmp_path, monkeypatch):
    """run_demo's default stream is looked up per call (it was bound at import,
    so a demo run after another test had imported the module wrote elsewhere)."""
    import io

    from sklearn_focal.cli import _demo

    stream = io.StringIO()
    monkeypatch.setattr("sys.stdout", stream)
    _demo.run_demo(quick=True, output_dir=tmp_path)
    assert "held-out test set" in stream.getvalue()


def test_demo_reliability_bins_hold_enough_points():
    from sklearn_focal.cli._demo import _merged_bins

    rng = np.random.default_rng(0)
    # Network-like confidences: most near 1, a sparse tail below.
    confidence = np.concatenate([1 - rng.exponential(0.01, 300), rng.random(40)])
    confidence = np.clip(confidence, 0.0, 1.0)
    edges, counts = _merged_bins(confidence, 10, 20)
    assert edges[0] == 0.0 and edges[-1] == 1.0
    assert np.all(np.diff(edges) > 0)
    assert counts.sum() == len(confidence)
    assert counts.min() >= 20
    recount, _ = np.histogram(confidence, bins=edges)
    np.testing.assert_array_equal(recount, counts)
    # Every edge is one of the uniform edges: bins are merged, never moved.
    assert np.all(np.isin(np.round(edges, 12), np.round(np.linspace(0, 1, 11), 12)))
