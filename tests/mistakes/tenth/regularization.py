"""Tenth fresh bank for regularization, written blind on 2026-12-08 in round nine (second freeze) AFTER round nine (second freeze)'s
diagnosis changes were merged (commit ab255a4); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("dropout_scale_only_in_forward", "keeps the 0/1 mask and scales only the forward output",
           "self._mask = (keep / (1.0 - self.p)).astype(x.dtype)\n        return x * self._mask",
           "self._mask = keep\n        return x * keep / (1.0 - self.p)",
           diagnosis="scale|backward|1 - p|missing factor|mask"),
    Mutant("dropout_keeps_with_probability_p", "keeps each entry with probability p instead of dropping it",
           "keep = self.rng.random(x.shape) >= self.p", "keep = self.rng.binomial(1, self.p, size=x.shape)",
           diagnosis="keep probability|drop probability|1 - p|inverted|p instead"),
    Mutant("l2_penalty_total_reset_in_loop", "resets the total inside the loop, keeping only the last parameter",
           "    total = 0.0\n    for p in params:\n", "    for p in params:\n        total = 0.0\n",
           diagnosis="last parameter|reset|every parameter|only one|accumulat"),
]
