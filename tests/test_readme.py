"""The README's code is true: its snippets run and its setup commands are the CI's."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language):
    text = README.read_text()
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


@pytest.mark.slow
def test_readme_python_snippets_run():
    namespace = {}
    blocks = _blocks("python")
    assert len(blocks) >= 5, "one snippet per estimator is expected"
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
    # The theory snippet's round trip holds.
    assert namespace["theory"].psi(namespace["q"], gamma=2.0).round(12).tolist() == [
        0.6,
        0.25,
        0.1,
        0.05,
    ]


def test_readme_has_exactly_two_setup_commands_used_by_ci():
    setup = _blocks("bash")[0].strip().splitlines()
    assert len(setup) == 2
    assert setup[0].startswith("pip install") and setup[0].endswith(
        "sklearn-focal demo"
    )
    assert setup[1].startswith("pip install") and "pytest" in setup[1]
    ci = (README.parent / ".ci" / "run").read_text()
    assert "sklearn-focal demo" in ci and "python -m pytest" in ci
