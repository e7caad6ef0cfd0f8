"""The one seed of a run. `make check` keeps a fixed seed, so its messages are reproducible; grade and
grade-all draw a fresh one per grading run (the reference and the tests are public, so answers to fixed
inputs could be tabulated in advance). Child processes receive it in KATA_SEED."""

from __future__ import annotations

import os
import secrets

ENV_VAR = "KATA_SEED"
DEFAULT_SEED = 20261125


def current() -> int:
    """The seed of this run: KATA_SEED, else the fixed default."""
    return int(os.environ.get(ENV_VAR, DEFAULT_SEED))


def fresh() -> int:
    """A new seed for one grading run."""
    return secrets.randbelow(2**31 - 1) + 1
