"""The README's code is true: its snippets run and its setup commands are the CI's."""

import re
import subprocess
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
CI = README.parent / ".ci" / "run"


def _blocks(language):
    text = README.read_text()
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


@pytest.mark.slow
def test_readme_python_snippets_run_each_on_its_own():
    blocks = _blocks("python")
    assert len(blocks) >= 5, "one snippet per estimator is expected"
    namespaces = []
    for block in blocks:
        namespace = {}  # each snippet defines its own data
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
        namespaces.append(namespace)
    # The theory snippet's round trip holds.
    theory_ns = namespaces[-1]
    assert theory_ns["theory"].psi(theory_ns["q"], gamma=2.0).round(12).tolist() == [
        0.6,
        0.25,
        0.1,
        0.05,
    ]
    # The first snippet's ECE comment comes from the model it trains.
    shown = re.search(r"# ECE ([0-9.]+) raw -> ([0-9.]+) recovered", blocks[0])
    assert shown is not None
    namespace = namespaces[0]
    ece, y_test = namespace["ece"], namespace["y_test"]
    raw, recovered = ece(y_test, namespace["q"]), ece(y_test, namespace["proba"])
    # Rounded to the digits shown (training is seeded; allow one unit of BLAS noise).
    assert abs(raw - float(shown[1])) <= 2e-3
    assert abs(recovered - float(shown[2])) <= 2e-3
    # A good first impression: an accurate model whose recovered ECE is small.
    accuracy = (namespace["proba"].argmax(axis=1) == y_test).mean()
    assert accuracy > 0.95 and recovered < 0.03 < raw
    # The caption under the figure quotes this model's test NLL and ECE: the
    # headline claim holds on digits, a real dataset, and in the NLL too.
    from sklearn.metrics import log_loss

    caption = re.search(
        r"test NLL from ([0-9.]+) to ([0-9.]+) and the ECE from ([0-9.]+) to "
        r"([0-9.]+)",
        " ".join(README.read_text().split()),
    )
    assert caption is not None
    nll_raw = log_loss(y_test, namespace["q"])
    nll_recovered = log_loss(y_test, namespace["proba"])
    assert nll_recovered < nll_raw
    for shown_value, value in zip(
        caption.groups(), (nll_raw, nll_recovered, raw, recovered), strict=True
    ):
        assert abs(float(shown_value) - value) <= 2e-3


def test_readme_has_exactly_two_setup_commands_used_by_ci():
    setup = _blocks("bash")[0].strip().splitlines()
    assert len(setup) == 2
    assert setup[0].startswith("pip install") and setup[0].endswith(
        "sklearn-focal demo"
    )
    assert setup[1].startswith("pip install") and "pytest" in setup[1]
    # .ci/run reads the two commands from the README itself: run its own
    # extraction lines on the README and get exactly these two lines back.
    ci = CI.read_text()
    extraction = [
        line for line in ci.splitlines() if re.match(r"(demo|test)_cmd=\$\(", line)
    ]
    assert len(extraction) == 2
    script = "\n".join(
        ["set -euo pipefail", *extraction, 'printf "%s\\n" "$demo_cmd" "$test_cmd"']
    )
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=README.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines() == setup
    # Each pattern picks one README line, not the first of several.
    lines = README.read_text().splitlines()
    for pattern in (re.search(r"grep -E '([^']+)'", line)[1] for line in extraction):
        assert [line for line in lines if re.search(pattern, line)] in (
            [setup[0]],
            [setup[1]],
        )
    # ... and CI runs what it extracted (the test command with CI's profile).
    assert re.search(r'^\(.*eval "\$demo_cmd"\)$', ci, flags=re.M)
    run_tests = r'^MPLBACKEND=Agg HYPOTHESIS_PROFILE=ci eval "\$test_cmd"$'
    assert re.search(run_tests, ci, flags=re.M)
