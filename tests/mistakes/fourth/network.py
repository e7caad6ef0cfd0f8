"""Fourth fresh bank for network, written after round five's diagnosis changes (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("layers_within_one_level", "lists the layer and its direct sub-layers, not deeper ones",
           "            stack.extend(child for _, child in current._children() if isinstance(child, Layer))",
           "            if current is layer:\n"
           "                stack.extend(child for _, child in current._children() if isinstance(child, Layer))",
           diagnosis="nested|inner|recurs|deeper|within|inside"),
    Mutant("recall_index_of_the_reversed_list", "walks reversed(self.layers) but recalls self._states[k] for the k-th of that walk",
           "        for k in reversed(range(len(self.layers))):\n            recall(self._states[k])\n"
           "            grad_out = self.layers[k].backward(grad_out)",
           "        for k, layer in enumerate(reversed(self.layers)):\n            recall(self._states[k])\n"
           "            grad_out = layer.backward(grad_out)",
           diagnosis="state of another|wrong state|index|another layer's|reversed"),
    Mutant("residual_backward_multiplies", "returns grad_out * (1 + block.backward(grad_out))",
           "return grad_out + self.block.backward(grad_out)", "return grad_out * (1 + self.block.backward(grad_out))",
           diagnosis="sum|add|plus|multipl|product"),
    Mutant("residual_raises_type_error", "raises TypeError for a block that changes the shape",
           "            raise ValueError(f\"Residual: the block maps", "            raise TypeError(f\"Residual: the block maps",
           diagnosis="valueerror|typeerror"),
    Mutant("states_only_for_layers_with_parameters", "remembers only the layers that have parameters",
           "            self._states.append(remember(layer))",
           "            if layer.parameters():\n                self._states.append(remember(layer))",
           diagnosis="every layer|one state per|each layer|index|list index"),
    Mutant("recall_everything_first", "recalls every remembered state before the backward loop",
           "        for k in reversed(range(len(self.layers))):\n            recall(self._states[k])\n",
           "        for state in self._states:\n            recall(state)\n"
           "        for k in reversed(range(len(self.layers))):\n",
           diagnosis="shared|used twice|second use|right before|before its backward|last forward"),
    Mutant("residual_checks_the_size", "compares sizes instead of shapes",
           "        if out.shape != x.shape:", "        if out.size != x.size:",
           diagnosis="shape|size"),
    Mutant("residual_averaged", "returns (x + block(x)) / 2",
           "        return x + out", "        return 0.5 * (x + out)",
           diagnosis="0.5|1/2|half|average"),
]
