"""Catch-up projection: feed every new record to a host's read model, remembering where it was.

A host keeps its own read models (a table of open blocks per customer, a search index, a cache).
:class:`CatchUpProjector` reads the log from its checkpoint in batches, hands each batch to the
host's function, and saves the position of the last record handled, so that the next run picks up
where this one stopped, in this process or in another.

Delivery is at least once: if the process stops after a batch is handled and before its checkpoint
is saved, that batch is handed over again. Make the handler idempotent, or keep the checkpoint in
the same transaction as the read model (implement :class:`Checkpoint` on the host's database).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import attrs

from servicedelivery.errors import FieldError, SourceError, ValidationError
from servicedelivery.eventlog._log import EventLog
from servicedelivery.eventlog._records import RecordedEvent

__all__ = ["CatchUpProjector", "Checkpoint", "FileCheckpoint", "InMemoryCheckpoint"]


@runtime_checkable
class Checkpoint(Protocol):
    """Where a projection stands: the position of the last record it handled (0 for none)."""

    def load(self) -> int:
        """The saved position."""
        ...

    def save(self, position: int) -> None:
        """Remember ``position`` durably."""
        ...


@attrs.define
class InMemoryCheckpoint:
    """A checkpoint kept in memory, for tests and for read models rebuilt at every start.

    Attributes:
        position: The saved position.
    """

    position: int = 0

    def load(self) -> int:
        """The saved position."""
        return self.position

    def save(self, position: int) -> None:
        """Remember ``position``."""
        self.position = position


class FileCheckpoint:
    """A checkpoint in a small text file, replaced atomically on every save.

    Args:
        path: The file; a missing file means position 0.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"FileCheckpoint({str(self.path)!r})"

    def load(self) -> int:
        """The saved position (0 when the file does not exist).

        Raises:
            SourceError: The file does not hold a position.
        """
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return 0
        if not text.isdigit():
            raise SourceError(f"not a checkpoint: {text[:40]!r}", source=str(self.path))
        return int(text)

    def save(self, position: int) -> None:
        """Write ``position`` to a temporary file, flush it to disk, then rename it into place."""
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(f"{position}\n")
                file.flush()
                os.fsync(file.fileno())
            Path(temporary).replace(self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


Handler = Callable[[Sequence[RecordedEvent]], object]
"""Handles a batch of records, in position order."""


class CatchUpProjector:
    """Hands every record after the checkpoint to ``handle``, in batches, in position order.

    Args:
        log: The log to read.
        handle: Called with each batch of records; when it returns, the batch is done.
        checkpoint: Where the position of the last record handled is kept; in memory by default.
        batch_size: At most this many records per call of ``handle``.

    Raises:
        ValidationError: A bad option.
    """

    def __init__(
        self,
        log: EventLog,
        handle: Handler,
        *,
        checkpoint: Checkpoint | None = None,
        batch_size: int = 1_000,
    ) -> None:
        # Typed as objects: callers may pass anything.
        given: dict[str, object] = {
            "log": log,
            "handle": handle,
            "checkpoint": checkpoint,
            "batch_size": batch_size,
        }
        size = given["batch_size"]
        errors = [
            FieldError(name, given[name], expected)
            for name, ok, expected in (
                ("log", isinstance(given["log"], EventLog), "an EventLog"),
                ("handle", callable(given["handle"]), "a callable taking a list of records"),
                (
                    "checkpoint",
                    given["checkpoint"] is None or isinstance(given["checkpoint"], Checkpoint),
                    "a Checkpoint (load and save)",
                ),
                (
                    "batch_size",
                    isinstance(size, int) and not isinstance(size, bool) and size >= 1,
                    "an integer >= 1",
                ),
            )
            if not ok
        ]
        if errors:
            raise ValidationError(errors, title="invalid CatchUpProjector options")
        self.log = log
        self.handle = handle
        self.checkpoint: Checkpoint = checkpoint if checkpoint is not None else InMemoryCheckpoint()
        self.batch_size = batch_size

    @property
    def position(self) -> int:
        """The position of the last record handled."""
        return self.checkpoint.load()

    def lag(self) -> int:
        """How many records are recorded and not handled yet."""
        return max(self.log.head() - self.position, 0)

    def run(self, *, until: int | None = None) -> int:
        """Handle every record recorded after the checkpoint, up to ``until`` (the head by default).

        Returns:
            How many records were handled.
        """
        handled = 0
        position = self.checkpoint.load()
        stop = self.log.head() if until is None else until
        while position < stop:
            batch = self.log.read_all(
                from_position=position + 1, limit=min(self.batch_size, stop - position)
            )
            if not batch:
                break
            self.handle(batch)
            position = batch[-1].position
            self.checkpoint.save(position)
            handled += len(batch)
        return handled
