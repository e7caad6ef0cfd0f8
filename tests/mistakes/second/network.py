"""Second fresh bank for network, written after the diagnosis changes."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("forward_skips_the_last_layer", "runs forward through all layers but the last",
           "        for layer in self.layers:\n            x = layer.forward(x)",
           "        for layer in self.layers[:-1]:\n            x = layer.forward(x)", diagnosis="last layer|fewer"),
    Mutant("residual_backward_minus_identity", "subtracts the identity path",
           "return grad_out + self.block.backward(grad_out)", "return self.block.backward(grad_out) - grad_out",
           diagnosis="sign|identity|minus"),
    Mutant("every_state_is_the_last", "stores the same remembered state for every layer",
           "self._states.append(remember(layer))", "self._states = [remember(layer)] * (len(self._states) + 1)",
           diagnosis="state|stale|same"),
    Mutant("recall_the_next_state", "restores the next layer's state",
           "recall(self._states[k])", "recall(self._states[min(k + 1, len(self._states) - 1)])",
           diagnosis="state|stale"),
    Mutant("residual_checks_only_the_batch", "compares only the batch sizes",
           "if out.shape != x.shape:", "if out.shape[0] != x.shape[0]:", diagnosis="shape"),
    Mutant("forward_in_reverse", "applies the layers last to first",
           "        for layer in self.layers:\n            x = layer.forward(x)",
           "        for layer in reversed(self.layers):\n            x = layer.forward(x)", diagnosis="order|reverse"),
    Mutant("residual_block_backward_twice", "calls the block's backward twice",
           "return grad_out + self.block.backward(grad_out)",
           "self.block.backward(grad_out)\n        return grad_out + self.block.backward(grad_out)",
           diagnosis="twice|2"),
    Mutant("walks_into_parameters", "pushes every child, parameters too",
           "stack.extend(child for _, child in current._children() if isinstance(child, Layer))",
           "stack.extend(child for _, child in current._children())", diagnosis="Parameter|layer"),
    Mutant("recall_the_previous_state", "restores the previous layer's state",
           "recall(self._states[k])", "recall(self._states[k - 1])", diagnosis="state|previous"),
    Mutant("states_cleared_after_forward", "clears the states at the end of forward",
           "        self._states = []\n        for layer in self.layers:\n            x = layer.forward(x)\n"
           "            self._states.append(remember(layer))\n        return x",
           "        for layer in self.layers:\n            x = layer.forward(x)\n"
           "            self._states.append(remember(layer))\n        self._states = []\n        return x",
           diagnosis="state|empty|cleared"),
]
