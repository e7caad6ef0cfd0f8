"""Tenth fresh bank for network, written blind on 2026-12-08 in round nine (second freeze) AFTER round nine (second freeze)'s
diagnosis changes were merged (commit ab255a4); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("sequential_keeps_iterator", "stores the layers argument as given, so a generator is used up",
           "self.layers = list(layers)", "self.layers = layers",
           diagnosis="list|generator|iterator|consumed|tuple"),
    Mutant("backward_does_not_chain", "passes the original upstream gradient to every layer",
           "            grad_out = self.layers[k].backward(grad_out)\n        return grad_out\n",
           "            grad = self.layers[k].backward(grad_out)\n        return grad\n",
           diagnosis="chain|previous layer|upstream|passed on|output of"),
    Mutant("residual_skips_super_init", "Residual never calls Layer.__init__",
           "super().__init__()\n        self.block = block", "self.block = block",
           diagnosis="super|__init__|training|attribute|base"),
]
