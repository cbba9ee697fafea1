"""The HTML report in a real headless browser: Debian's chromium renders it, and the page is read back.

The browser dumps the DOM it built: the page must parse, carry every section and the four plots
with their marks, and pull nothing from the network. `.ci/run` installs chromium when it is missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from servicedelivery._cli import main
from servicedelivery.report import SECTIONS

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(*arguments: str) -> subprocess.CompletedProcess[str]:
    if CHROMIUM is None:
        pytest.fail("chromium is not installed; .ci/run installs it (apt-get install chromium)")
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("html")
    page = folder / "report.html"
    trail = folder / "trail.sqlite"
    argv = ["demo", "--orders", "120", "--seed", "5", "--trail", str(trail)]
    assert main([*argv, "--format", "html", "--output", str(page)]) == 0
    return page


def test_the_browser_shows_every_section_and_plot(page: Path) -> None:
    result = _chromium("--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert "<h1>Portfolio report: synthetic portfolio, 120 orders, seed 5" in dom
    for key, (title, _) in SECTIONS.items():
        assert f'<section id="{key}"><h2>{title}</h2>' in dom
    for figure in (
        "cycle-time-scatter",
        "aging-by-step",
        "cumulative-flow",
        "blocked-time-by-owner",
    ):
        match = re.search(f'<figure id="{figure}">(.*?)</figure>', dom, re.DOTALL)
        assert match is not None, figure
        assert "<svg" in match.group(1)
    scatter = re.search(r'<figure id="cycle-time-scatter">(.*?)</figure>', dom, re.DOTALL)
    assert scatter is not None
    # One dot per completed item, and the three percentile lines.
    dots = re.search(r'data-series="items"[^>]* d="([^"]*)"', scatter.group(1))
    assert dots is not None
    assert dots.group(1).count("M") > 100
    for line in ("p50", "p85", "p95"):
        assert f">{line} " in scatter.group(1)
    flow = re.search(r'<figure id="cumulative-flow">(.*?)</figure>', dom, re.DOTALL)
    assert flow is not None
    assert len(re.findall("<polygon", flow.group(1))) == 5
    bars = re.search(r'<figure id="blocked-time-by-owner">(.*?)</figure>', dom, re.DOTALL)
    assert bars is not None
    assert {"customer", "provider"} <= set(
        re.findall(r'<rect data-series="([a-z_]+)"', bars.group(1))
    )
    # Self-contained: nothing is fetched.
    assert not re.search(r'(src|href)="https?:', dom)


def test_the_page_renders_to_a_picture(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    result = _chromium(
        "--hide-scrollbars", "--window-size=1200,2400", f"--screenshot={shot}", page.as_uri()
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG")
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 2400)
    # A blank page compresses to almost nothing; plots and tables do not.
    assert len(data) > 100_000
