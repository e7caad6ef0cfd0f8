"""Tenth fresh bank for stability, written blind on 2026-12-08 in round nine (second freeze) AFTER round nine (second freeze)'s
diagnosis changes were merged (commit ab255a4); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("stable_log_softmax_log_of_softmax", "takes the log of the stable softmax",
           "return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))", "return np.log(stable_softmax(shifted))",
           diagnosis="log of|underflow|-inf|tiny|zero"),
]
