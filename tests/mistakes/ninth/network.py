"""Ninth fresh bank for network, written blind on 2026-12-07 in round nine AFTER round nine's diagnosis changes
were merged (commit eeff076); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("remember_arrays_only", "keeps only the ndarray attributes, dropping tuples, None and flags from the remembered state",
           "return [(sub, dict(vars(sub))) for sub in layers_within(layer)]",
           "return [(sub, {k: v for k, v in vars(sub).items() if isinstance(v, np.ndarray)}) for sub in layers_within(layer)]",
           diagnosis="state|attribute|remember|cache|tuple"),
    Mutant("recall_the_current_state", "recalls a fresh remember() of the layer, i.e. its latest state, not the one saved at its use",
           "recall(self._states[k])", "recall(remember(self.layers[k]))",
           diagnosis="stale|latest|last use|saved state|shared"),
    Mutant("states_overwritten_by_each_layer", "replaces the list of states by the current layer's at every step",
           "self._states.append(remember(layer))", "self._states = [remember(layer)]",
           diagnosis="overwrit|only the last|states|append|state list"),
    Mutant("residual_forward_subtracts", "returns x - block(x)",
           "return x + out", "return x - out",
           diagnosis="minus|subtract|negat|x + block|opposite"),
    Mutant("residual_backward_block_of_ones", "sends ones through the block instead of the upstream gradient",
           "return grad_out + self.block.backward(grad_out)", "return grad_out + self.block.backward(np.ones_like(grad_out))",
           diagnosis="np.ones|upstream|grad_out|block|chain rule"),
    Mutant("residual_backward_halved", "averages the two paths in backward",
           "return grad_out + self.block.backward(grad_out)", "return (grad_out + self.block.backward(grad_out)) / 2",
           diagnosis="1/2|half|averag|factor|0.5"),
    Mutant("residual_deep_copies_the_block", "keeps a deep copy of the block, so the caller's block is never trained",
           "self.block = block", "import copy\n        self.block = copy.deepcopy(block)",
           diagnosis="copy|same object|caller|shared|block's"),
    Mutant("sequential_layers_reversed_at_init", "stores the layers in reverse order",
           "self.layers = list(layers)", "self.layers = list(reversed(layers))",
           diagnosis="layer order|reverse|first layer|last layer|wrong layer"),
]
