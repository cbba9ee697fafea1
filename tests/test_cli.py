from __future__ import annotations

import subprocess
import sys

import pytest

from servicedelivery._cli import main


def test_demo_summarizes_a_seeded_portfolio(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--orders", "300", "--seed", "3"]) == 0
    first = capsys.readouterr().out
    assert "300 orders" in first
    assert "Blocked milestones by owner" in first
    assert "Blocked milestones by reason" in first
    assert main(["demo", "--orders", "300", "--seed", "3"]) == 0
    assert capsys.readouterr().out == first


def test_usage_errors_exit_with_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["demo", "--orders", "0"])
    assert info.value.code == 2
    assert "--orders: expected a positive number, got 0" in capsys.readouterr().err


def test_python_dash_m_runs_the_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "servicedelivery", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("servicedelivery ")
