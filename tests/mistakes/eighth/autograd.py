"""Eighth fresh bank for autograd, written blind on 2026-12-07 in round eight AFTER round eight's diagnosis
changes were merged (commit 3a1f4a2); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
]
