"""Progress of long work (loading a large file, building a big demo), shown on a terminal.

Progress goes to a text stream, normally standard error, so that it never mixes with a report written
to standard output. A line is redrawn in place (a carriage return) at most every ``interval`` seconds and
finished with a newline that says how long the work took. :data:`SILENT` shows nothing; library
functions take ``progress=`` and default to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["SILENT", "Progress", "Task"]

_WIDTH = 79


class Task:
    """One piece of long work: how much is done out of how much (when the total is known).

    Made by :meth:`Progress.task`; call :meth:`advance` or :meth:`update` as work gets done.
    """

    def __init__(self, progress: Progress, label: str, total: int | None, unit: str) -> None:
        self._progress = progress
        self.label = label
        self.total = total
        self.unit = unit
        self.done = 0
        self._started = progress.clock()
        self._shown_at = float("-inf")

    def advance(self, amount: int = 1) -> None:
        """Count ``amount`` more units done."""
        self.update(self.done + amount)

    def update(self, done: int) -> None:
        """Set how many units are done."""
        self.done = done
        now = self._progress.clock()
        if now - self._shown_at >= self._progress.interval:
            self._shown_at = now
            self._progress.draw(self._line(), final=False)

    def _line(self) -> str:
        if self.total:
            share = min(self.done / self.total, 1.0)
            return f"{self.label}: {self.done:,} of {self.total:,} {self.unit} ({share:.0%})"
        return f"{self.label}: {self.done:,} {self.unit}"

    def finish(self) -> None:
        """Show the final count and how long the work took."""
        seconds = self._progress.clock() - self._started
        self._progress.draw(
            f"{self.label}: {self.done:,} {self.unit} in {seconds:.1f} s", final=True
        )


class Progress:
    """Shows the progress of long work on a text stream (standard error, say).

    Args:
        stream: Where to write; ``None`` shows nothing.
        interval: The least time between two redraws of a line, in seconds.
        clock: Returns the current time in seconds (``time.monotonic``); tests pass their own.
        live: Whether lines are redrawn in place as work goes on; by default only on a terminal.
            Elsewhere (a log file, a CI job) only each task's final line is written.
    """

    def __init__(
        self,
        stream: TextIO | None,
        *,
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        live: bool | None = None,
    ) -> None:
        self.stream = stream
        self.interval = interval
        self.clock = clock
        self.live = live if live is not None else stream is not None and stream.isatty()

    @property
    def enabled(self) -> bool:
        """Whether anything is shown."""
        return self.stream is not None

    @contextmanager
    def task(self, label: str, *, total: int | None = None, unit: str = "items") -> Iterator[Task]:
        """A piece of work to show; its final line is written when the block ends normally.

        Args:
            label: What is being done (``"loading data/helpdesk.csv.gz"``).
            total: How many units there are, when known.
            unit: What is counted (``"rows"``, ``"events"``).
        """
        task = Task(self, label, total, unit)
        task.update(0)
        yield task
        task.finish()

    def draw(self, line: str, *, final: bool) -> None:
        """Write one line, in place of the previous one unless it was final."""
        if self.stream is None:
            return
        if not self.live:
            if final:
                self.stream.write(line + "\n")
                self.stream.flush()
            return
        text = line[:_WIDTH].ljust(_WIDTH)
        self.stream.write("\r" + text + ("\n" if final else ""))
        self.stream.flush()


SILENT = Progress(None)
"""Shows nothing: the default for library calls."""
