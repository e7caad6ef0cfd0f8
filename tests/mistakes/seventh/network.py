"""Seventh fresh bank for network, written blind on 2026-12-07 in round seven AFTER round seven's diagnosis
changes were merged (commit a774e56); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("residual_forward_multiplies", "returns x * block(x) instead of x + block(x)",
           "        return x + out\n", "        return x * out\n",
           diagnosis="product|multipl|times|instead of adding|x + block"),
    Mutant("residual_checks_only_ndim", "compares the number of axes only, so (N, 1) + (N, D) broadcasts silently",
           "if out.shape != x.shape:", "if out.ndim != x.ndim:",
           diagnosis="number of axes|ndim|broadcast|same shape|shape check"),
    Mutant("remember_skips_private_attributes", "copies only the public attributes, so the caches (_x, _mask) are "
           "not remembered",
           "return [(sub, dict(vars(sub))) for sub in layers_within(layer)]",
           "return [(sub, {k: v for k, v in vars(sub).items() if not k.startswith(\"_\")}) "
           "for sub in layers_within(layer)]",
           diagnosis="private|underscore|cache|_x|stale|shared layer|last use"),
    Mutant("residual_backward_adds_into_the_block_gradient", "adds grad_out in place into what the block's "
           "backward returned, which may be the caller's array",
           "return grad_out + self.block.backward(grad_out)",
           "g = self.block.backward(grad_out)\n        g += grad_out\n        return g",
           diagnosis="in place|alias|modifies|caller's|same array|copy"),
    Mutant("forward_applies_the_last_layer_again", "returns self.layers[-1].forward(x): the last layer twice",
           "            self._states.append(remember(layer))\n        return x\n",
           "            self._states.append(remember(layer))\n        return self.layers[-1].forward(x)\n",
           diagnosis="twice|again|last layer|applied two"),
    Mutant("first_layer_not_recalled", "skips recall for the first layer (k = 0)",
           "            recall(self._states[k])\n", "            if k:\n                recall(self._states[k])\n",
           diagnosis="first layer|layer 0|not recalled|stale|shared"),
    Mutant("remembers_the_first_layer_every_time", "remembers self.layers[0] after every layer",
           "self._states.append(remember(layer))", "self._states.append(remember(self.layers[0]))",
           diagnosis="first layer|layer 0|same layer|every state|stale"),
    Mutant("residual_backward_block_gets_twice_the_gradient", "passes grad_out + grad_out to the block and "
           "returns that",
           "return grad_out + self.block.backward(grad_out)", "return self.block.backward(grad_out + grad_out)",
           diagnosis="identity path|twice|factor 2|doubled|skip path|x + block"),
]
