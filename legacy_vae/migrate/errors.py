"""The one error the converter raises: every problem found, listed at once.

A half-matched model is worse than none (it loads, runs and gives wrong
numbers), so the converter collects every unmatched, doubly matched or
misshapen weight first and refuses with all of them in one message, instead
of stopping at the first. A ``ValueError``: the input does not fit, and
``legacy-vae convert`` exits with status 2 for it.
"""
from __future__ import annotations


class MigrationError(ValueError):
    """A checkpoint that cannot be read, or whose variables do not fit the model; ``problems`` lists why."""

    def __init__(self, problems, headline: str | None = None):
        self.problems = list(problems)
        self.headline = headline
        super().__init__(self._text())

    def _text(self) -> str:
        if self.headline is None and len(self.problems) == 1:
            return self.problems[0]
        head = self.headline or "cannot convert the checkpoint"
        return f"{head}: {len(self.problems)} problem(s)\n" + "\n".join(f"  - {p}" for p in self.problems)
