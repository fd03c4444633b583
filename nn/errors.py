"""Exceptions raised by the engine."""

from __future__ import annotations


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss; the last finite weights were restored."""

    def __init__(self, epoch: int, hint: str) -> None:
        self.epoch = epoch
        self.hint = hint
        super().__init__(
            f"training diverged at epoch {epoch}: the loss is no longer finite. {hint}"
        )
