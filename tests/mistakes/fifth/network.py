"""Fifth fresh bank for network, written blind in round six (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

# Sequential.forward's body to the first line of backward's loop (for a mistake that spans both).
_BETWEEN = ('        return x\n        # </exercise>\n\n    def backward(self, grad_out):\n'
            '        """Backpropagate through every layer, last to first.\n\n'
            '        grad_out: dL/dh_K, the shape of the output. Returns dL/dx, the shape of the input.\n\n'
            '            g = grad_out\n'
            '            for k = K, K-1, ..., 1:   recall(state of use k);  g = layers[k-1].backward(g)   (dL/dh_{k-1})\n'
            '            return g\n\n'
            '        recall puts back what layer k held right after its own forward, whatever later uses of the same\n'
            '        layer (here or in any other container) did since. Keep self._states as it is (do not pop): a\n'
            '        second backward call must find the same states.\n        """\n        # <exercise>\n'
            '        for k in reversed(range(len(self.layers))):\n')

MUTANTS = [
    Mutant("backward_skips_layers_without_parameters", "skips the backward of every layer without parameters (the activations)",
           "            recall(self._states[k])\n            grad_out = self.layers[k].backward(grad_out)\n",
           "            if not self.layers[k].parameters():\n                continue\n"
           "            recall(self._states[k])\n            grad_out = self.layers[k].backward(grad_out)\n",
           diagnosis=("without parameters|no parameters|skips the activation|activations are skipped|"
                      "every layer's backward|each layer's backward")),
    Mutant("states_keyed_by_layer", "keeps the remembered states in a dict keyed by the layer, so a layer's second use overwrites its first",
           "        self._states = []\n        for layer in self.layers:\n            x = layer.forward(x)\n"
           "            self._states.append(remember(layer))\n" + _BETWEEN + "            recall(self._states[k])\n",
           "        self._states = {}\n        for layer in self.layers:\n            x = layer.forward(x)\n"
           "            self._states[id(layer)] = remember(layer)\n" + _BETWEEN
           + "            recall(self._states[id(self.layers[k])])\n",
           diagnosis="keyed by the layer|per use|each use|second use|overwrit|used twice|one state per layer"),
    Mutant("states_taken_after_the_loop", "remembers every layer's state once the whole forward is done, not right after its own forward",
           "            x = layer.forward(x)\n            self._states.append(remember(layer))\n        return x\n",
           "            x = layer.forward(x)\n        self._states = [remember(layer) for layer in self.layers]\n        return x\n",
           diagnosis=("right after|after the whole|end of forward|after its own forward|second use|each use|"
                      "used twice")),
    Mutant("recall_only_the_outer_layer", "recall restores the first remembered layer only, not the sub-layers",
           "    for sub, attributes in state:\n        vars(sub).update(attributes)\n",
           "    sub, attributes = state[0]\n    vars(sub).update(attributes)\n",
           diagnosis="sub-layer|sublayer|inner layer|nested|only the outer|every layer within|layers within"),
    Mutant("recall_with_setdefault", "recall puts back only the attributes a layer no longer has (setdefault), never overwriting",
           "        vars(sub).update(attributes)\n",
           "        for key, value in attributes.items():\n            vars(sub).setdefault(key, value)\n",
           diagnosis="setdefault|never overwrit|does not overwrite|not restored|overwrite the current"),
    Mutant("layers_wrapped_in_a_list", "stores self.layers = [layers], a list holding the tuple of layers",
           "        self.layers = list(layers)\n", "        self.layers = [layers]\n",
           diagnosis="tuple|nested list|[layers]|list(layers)|*layers"),
    Mutant("backward_accumulates_the_gradient", "adds each layer's returned gradient to the incoming one instead of passing it on",
           "            grad_out = self.layers[k].backward(grad_out)\n",
           "            grad_out += self.layers[k].backward(grad_out)\n",
           diagnosis="accumulat|instead of passing|pass it on|passes it on|instead of replacing"),
    Mutant("residual_adds_the_block_to_itself", "returns out + out, the block's output twice, instead of x + out",
           "        return x + out\n", "        return out + out\n",
           diagnosis="identity|skip connection|x + block|out + out|twice the block"),
]
