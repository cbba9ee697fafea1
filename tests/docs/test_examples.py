"""Every ```python block in the docs and the README runs, in order, one namespace per file.

A page's examples build on each other the way a reader reads them. Tracebacks point at the line of
the Markdown file. Examples run from the repository root, so they can read ``data/``.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
PAGES = sorted([*ROOT.glob("docs/**/*.md"), ROOT / "README.md"])
WITH_EXAMPLES = [page for page in PAGES if FENCE.search(page.read_text(encoding="utf-8"))]


def test_the_docs_have_examples() -> None:
    assert ROOT / "README.md" in WITH_EXAMPLES
    assert len(WITH_EXAMPLES) >= 3


@pytest.mark.parametrize(
    "page", WITH_EXAMPLES, ids=[str(p.relative_to(ROOT)) for p in WITH_EXAMPLES]
)
def test_examples_run(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    text = page.read_text(encoding="utf-8")
    # A module of its own, known to sys.modules, so that tools resolving the annotations of classes
    # an example defines (attrs, cattrs) find the page's names.
    module = types.ModuleType(f"docs:{page.stem}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    namespace = module.__dict__
    for match in FENCE.finditer(text):
        first_line = text.count("\n", 0, match.start(1))
        # Pad with blank lines so that line numbers in tracebacks are the page's own.
        source = "\n" * first_line + match.group(1)
        exec(compile(source, str(page), "exec"), namespace)
