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
           diagnosis="super|__init__|training flag|attribute|layer.__init__"),
    Mutant("recall_replaces_dict", "replaces each layer's __dict__ with the stored snapshot itself",
           "        vars(sub).update(attributes)\n", "        sub.__dict__ = attributes\n",
           diagnosis="alias|same dict|snapshot|copy|shared"),
    Mutant("forward_skips_first_layer", "loops from the second layer on in forward",
           "        for layer in self.layers:\n            x = layer.forward(x)", "        for layer in self.layers[1:]:\n            x = layer.forward(x)",
           diagnosis="first layer|skip|off by one|missing layer|one layer"),
    Mutant("forward_returns_inside_loop", "returns from inside the loop, after the first layer",
           "            self._states.append(remember(layer))\n        return x\n", "            self._states.append(remember(layer))\n            return x\n",
           diagnosis="first layer|return inside|loop|only one|every layer"),
    Mutant("residual_backward_block_of_zero", "feeds the block a zero gradient, keeping only the identity path",
           "return grad_out + self.block.backward(grad_out)", "return grad_out + self.block.backward(np.zeros_like(grad_out))",
           diagnosis="upstream|zero gradient|block|chain|passed"),
    Mutant("backward_recalls_into_wrong_layer_list", "restores the states in reverse list order, so layer k gets state n - 1 - k",
           "recall(self._states[k])", "recall(self._states[len(self.layers) - 1 - k])",
           diagnosis="index|wrong layer|state|reverse|mismatch"),
]
