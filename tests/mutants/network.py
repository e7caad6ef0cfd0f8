"""Known-wrong variants of solutions/network.py (spoilers: each quotes a line of the reference)."""

from grader.core.manifest import SOLUTIONS_DIR
from grader.maintainer.mutation import Mutant

REFERENCE = (SOLUTIONS_DIR / "network.py").read_text()


def rewritten(start: str, end: str, edits: dict) -> tuple[str, str]:
    """(find, replace) for the reference's text from `start` to the first `end` after it, inclusive, with
    each edit (old -> new) applied once: one mutant that changes Sequential.forward and .backward together."""
    begin = REFERENCE.index(start)
    find = REFERENCE[begin:REFERENCE.index(end, begin) + len(end)]
    replace = find
    for old, new in edits.items():
        if replace.count(old) != 1:
            raise ValueError(f"mutants/network.py: {old!r} is not once in the reference's Sequential")
        replace = replace.replace(old, new)
    return find, replace


KEEP_INPUTS = {  # Sequential.forward keeping each layer's input, as a re-running mechanism needs
    "        for layer in self.layers:\n            x = layer.forward(x)\n":
    "        self._inputs = []\n        for layer in self.layers:\n            self._inputs.append(x)\n"
    "            x = layer.forward(x)\n",
}
BACKWARD_LOOP = ("        for k in reversed(range(len(self.layers))):\n            recall(self._states[k])\n"
                 "            grad_out = self.layers[k].backward(grad_out)\n")
SEQUENTIAL = ("        self._states = []\n        for layer in self.layers:\n", "        return grad_out\n")

# The mechanism the kata taught before: run forward again, only for a layer repeated in this Sequential's
# own list (misses a layer shared with another container, and redraws a random layer's factors).
RERUN_REPEATED = rewritten(*SEQUENTIAL, {**KEEP_INPUTS, BACKWARD_LOOP: (
    "        uses = {}\n"
    "        for layer in self.layers:\n"
    "            uses[id(layer)] = uses.get(id(layer), 0) + 1\n"
    "        for k in reversed(range(len(self.layers))):\n"
    "            if uses[id(self.layers[k])] > 1:\n"
    "                self.layers[k].forward(self._inputs[k])\n"
    "            grad_out = self.layers[k].backward(grad_out)\n")})
# Run forward again before every layer's backward (right for deterministic layers, wrong for random ones).
RERUN_ALWAYS = rewritten(*SEQUENTIAL, {**KEEP_INPUTS, "            recall(self._states[k])\n":
                                       "            self.layers[k].forward(self._inputs[k])\n"})

MUTANTS = [
    Mutant("backward_in_forward_order", "calls the layers' backward first to last",
           "for k in reversed(range(len(self.layers))):", "for k in range(len(self.layers)):",
           diagnosis="reverse order"),
    Mutant("backward_not_chained", "gives every layer's backward the network's grad_out",
           "            grad_out = self.layers[k].backward(grad_out)\n        return grad_out",
           "            grad_x = self.layers[k].backward(grad_out)\n        return grad_x",
           diagnosis="receive the gradient returned by the layer after it"),
    Mutant("backward_no_return", "forgets to return dL/dx from Sequential.backward",
           "            grad_out = self.layers[k].backward(grad_out)\n        return grad_out",
           "            grad_out = self.layers[k].backward(grad_out)",
           diagnosis="forget to `return`"),
    Mutant("forward_not_chained", "feeds the network's input to every layer",
           "            x = layer.forward(x)\n            self._states.append(remember(layer))\n        return x",
           "            out = layer.forward(x)\n            self._states.append(remember(layer))\n        return out",
           diagnosis="feed each layer's output into the next"),
    Mutant("shared_layer_cache_not_restored", "lets the second use of a layer overwrite the first use's cache",
           "            recall(self._states[k])\n", "",
           diagnosis="the second use overwrote the first one's input"),
    Mutant("remembered_state_is_the_live_dictionary", "remembers vars(layer) itself instead of a copy",
           "return [(sub, dict(vars(sub))) for sub in layers_within(layer)]",
           "return [(sub, vars(sub)) for sub in layers_within(layer)]",
           diagnosis="not vars(layer) itself"),
    Mutant("remembered_state_without_inner_layers", "remembers the layer's own attributes, not its sub-layers'",
           "return [(sub, dict(vars(sub))) for sub in layers_within(layer)]",
           "return [(layer, dict(vars(layer)))]",
           diagnosis="every layer inside it"),
    Mutant("states_list_cleared_in_place", "clears self._states in place instead of starting a new list",
           "        self._states = []\n        for layer in self.layers:",
           "        self._states.clear()\n        for layer in self.layers:",
           diagnosis="start a new self._states list"),
    Mutant("backward_consumes_the_states", "pops the remembered states in backward (a second call fails)",
           "            recall(self._states[k])\n", "            recall(self._states.pop())\n",
           diagnosis="do not pop self._states"),
    Mutant("rerun_forward_for_repeated_layers", "re-runs forward for a layer repeated in the same Sequential only",
           *RERUN_REPEATED, diagnosis="shared between two containers"),
    Mutant("rerun_forward_before_every_backward", "re-runs every layer's forward on its input before its backward",
           *RERUN_ALWAYS, diagnosis="forward ran again before backward"),
    Mutant("shared_layer_gradient_reset", "zeroes each layer's gradients before its backward",
           "            grad_out = self.layers[k].backward(grad_out)\n",
           "            self.layers[k].zero_grad()\n            grad_out = self.layers[k].backward(grad_out)\n",
           diagnosis="second use's gradient was lost"),
    Mutant("parameters_listed_per_use", "collects every sub-layer's parameters(), a shared layer's twice",
           "        return grad_out\n        # </exercise>\n\n\nclass Residual(Layer):",
           "        return grad_out\n        # </exercise>\n\n    def parameters(self):\n"
           "        return [p for layer in self.layers for p in layer.parameters()]\n\n\nclass Residual(Layer):",
           diagnosis="updated twice per step"),
    Mutant("residual_forward_without_identity", "returns block(x) instead of x + block(x)",
           "        return x + out", "        return out",
           diagnosis="identity path is missing"),
    Mutant("residual_backward_without_identity", "backpropagates through the block path only",
           "return grad_out + self.block.backward(grad_out)", "return self.block.backward(grad_out)",
           diagnosis="identity path is missing"),
    Mutant("residual_backward_one_for_grad_out", "adds 1 for the identity path instead of grad_out (issue 19: general)",
           "return grad_out + self.block.backward(grad_out)", "return 1 + self.block.backward(grad_out)",
           diagnosis="the expected value - 1 times grad_out (the upstream gradient) + 1"),
]

# Issue 19, round three: a second backward call through a layer used first and last.
MUTANTS += [
    Mutant("last_layer_not_recalled", "skips recall for the last layer, which 'still has' its state",
           "            recall(self._states[k])\n",
           "            if k < len(self.layers) - 1:\n                recall(self._states[k])\n",
           diagnosis="the last layer's too"),
]
MUTANTS += [
    Mutant("residual_compares_sizes", "compares the sizes of x and block(x), not their shapes",
           "        if out.shape != x.shape:", "        if out.size != x.size:",
           diagnosis="the same size is not the same shape"),
]
