"""Tenth fresh bank for regularization, written blind on 2026-12-08 in round nine (second freeze) AFTER round nine (second freeze)'s
diagnosis changes were merged (commit ab255a4); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("dropout_scale_only_in_forward", "keeps the 0/1 mask and scales only the forward output",
           "self._mask = (keep / (1.0 - self.p)).astype(x.dtype)\n        return x * self._mask",
           "self._mask = keep\n        return x * keep / (1.0 - self.p)",
           diagnosis="scale|in backward|1 - p|missing factor|mask"),
    Mutant("dropout_keeps_with_probability_p", "keeps each entry with probability p instead of dropping it",
           "keep = self.rng.random(x.shape) >= self.p", "keep = self.rng.binomial(1, self.p, size=x.shape)",
           diagnosis="keep probability|drop probability|1 - p|inverted|p instead"),
    Mutant("l2_penalty_total_reset_in_loop", "resets the total inside the loop, keeping only the last parameter",
           "    total = 0.0\n    for p in params:\n", "    for p in params:\n        total = 0.0\n",
           diagnosis="last parameter|reset|every parameter|only one|accumulat"),
    Mutant("dropout_forward_returns_mask", "returns the scaled mask instead of the masked input",
           "        return x * self._mask\n", "        return self._mask\n",
           diagnosis="input|mask instead|output|multipl|x times"),
    Mutant("dropout_backward_returns_mask", "returns the mask without the upstream gradient",
           "return grad_out * self._mask", "return self._mask",
           diagnosis="upstream|chain|grad_out|multipl|without the upstream"),
    Mutant("dropout_mask_per_feature", "draws one mask entry per feature and shares it across the batch",
           "keep = self.rng.random(x.shape) >= self.p", "keep = self.rng.random(x.shape[-1]) >= self.p",
           diagnosis="same mask|every example|batch|per example|shared"),
    Mutant("l2_penalty_returns_inside_loop", "returns from inside the loop, after the first parameter",
           "        total += float(np.sum(p.data ** 2))\n    return 0.5 * lam * total", "        total += float(np.sum(p.data ** 2))\n        return 0.5 * lam * total",
           diagnosis="first parameter|only one|return inside|loop|every parameter"),
    Mutant("l2_grad_result_discarded", "calls np.add without out=, discarding the result",
           "p.grad += lam * p.data", "np.add(p.grad, lam * p.data)",
           diagnosis="in place|discarded|no effect|result|unchanged"),
    Mutant("dropout_training_branch_checks_p", "tests p == 0 instead of the mode, so eval mode still drops entries",
           "        if not self.training:\n            self._mask = None\n            return x\n", "        if self.p == 0.0:\n            self._mask = None\n            return x\n",
           diagnosis="eval|training flag|eval mode|inference"),
]
