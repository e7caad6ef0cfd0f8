"""Eighth fresh bank for network, written blind on 2026-12-07 in round eight AFTER round eight's diagnosis
changes were merged (commit 3a1f4a2); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("sequential_backward_grad_not_chained", "passes the original gradient to every layer",
           "grad_out = self.layers[k].backward(grad_out)", "self.layers[k].backward(grad_out)",
           diagnosis="chain|passed on|previous layer|propagat|return"),
    Mutant("residual_backward_doubled", "adds grad_out twice",
           "return grad_out + self.block.backward(grad_out)", "return 2 * grad_out + self.block.backward(grad_out)",
           diagnosis="twice|double|2 *|factor"),
    Mutant("sequential_forward_feeds_input_each_time", "feeds the network input to every layer",
           "x = layer.forward(x)\n", "out = layer.forward(x)\n",
           diagnosis="chain|previous output|same input|feed|output of"),
    Mutant("sequential_recall_next_state", "recalls the state of the layer after k",
           "recall(self._states[k])", "recall(self._states[(k + 1) % len(self._states)])",
           diagnosis="index|off by one|wrong state|k + 1|next"),
    Mutant("residual_adds_input_twice", "returns x + x + block(x)",
           "return x + out", "return x + x + out",
           diagnosis="twice|double|x + x|2 *|identity"),
    Mutant("residual_forward_block_of_twice", "applies the block to its own output before adding",
           "out = self.block.forward(x)\n", "out = self.block.forward(self.block.forward(x))\n",
           diagnosis="twice|block|applied|once|composition"),
    Mutant("residual_backward_subtracts", "subtracts the block's gradient from the skip's",
           "return grad_out + self.block.backward(grad_out)", "return grad_out - self.block.backward(grad_out)",
           diagnosis="minus|subtract|plus|opposite|negat"),
    Mutant("residual_backward_paths_multiplied", "multiplies the two paths' gradients instead of adding them",
           "return grad_out + self.block.backward(grad_out)", "return grad_out * self.block.backward(grad_out)",
           diagnosis="multipl|add|summed|product|plus"),
]
