"""First fresh bank for network, written before any diagnosis change."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("states_never_cleared", "appends to the states of every earlier forward",
           "        self._states = []\n        for layer in self.layers:",
           "        for layer in self.layers:", diagnosis="stale|earlier|previous|first forward"),
    Mutant("recall_shares_the_dictionary", "restores a layer by handing it the remembered dictionary",
           "vars(sub).update(attributes)", "sub.__dict__ = attributes", diagnosis="copy|state"),
    Mutant("backward_skips_the_last_layer", "starts backward one layer too early",
           "for k in reversed(range(len(self.layers))):", "for k in reversed(range(len(self.layers) - 1)):",
           diagnosis="last layer"),
    Mutant("backward_skips_the_first_layer", "stops backward before the first layer",
           "for k in reversed(range(len(self.layers))):", "for k in reversed(range(1, len(self.layers))):",
           diagnosis="first layer"),
    Mutant("residual_no_shape_check", "never checks that the block keeps the shape",
           "        if out.shape != x.shape:\n", "        if False:\n", diagnosis="shape"),
    Mutant("recall_after_backward", "calls the layer's backward before restoring its state",
           "            recall(self._states[k])\n            grad_out = self.layers[k].backward(grad_out)",
           "            grad_out = self.layers[k].backward(grad_out)\n            recall(self._states[k])",
           diagnosis="before|restore"),
    Mutant("remember_before_forward", "remembers a layer's state before its forward",
           "            x = layer.forward(x)\n            self._states.append(remember(layer))",
           "            self._states.append(remember(layer))\n            x = layer.forward(x)",
           diagnosis="after|before"),
    Mutant("residual_adds_in_place", "adds the block's output into x in place",
           "        return x + out", "        x += out\n        return x", diagnosis="in place|input"),
    Mutant("recall_always_the_last", "restores the last layer's state for every layer",
           "recall(self._states[k])", "recall(self._states[-1])", diagnosis="state|stale"),
    Mutant("remember_skips_the_layer_itself", "remembers only the sub-layers, not the layer itself",
           "    stack = [layer]\n", "    stack = [child for _, child in layer._children() if isinstance(child, Layer)]\n",
           diagnosis="itself|state"),
]
