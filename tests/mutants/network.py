"""Known-wrong variants of solutions/network.py (spoilers: each quotes a line of the reference)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("backward_in_forward_order", "calls the layers' backward first to last",
           "for index in reversed(range(len(self.layers))):", "for index in range(len(self.layers)):",
           diagnosis="reverse order"),
    Mutant("backward_not_chained", "gives every layer's backward the network's grad_out",
           "            grad_out = layer.backward(grad_out)\n        return grad_out",
           "            grad_x = layer.backward(grad_out)\n        return grad_x",
           diagnosis="receive the gradient returned by the layer after it"),
    Mutant("backward_no_return", "forgets to return dL/dx from Sequential.backward",
           "            grad_out = layer.backward(grad_out)\n        return grad_out",
           "            grad_out = layer.backward(grad_out)",
           diagnosis="forget to `return`"),
    Mutant("forward_not_chained", "feeds the network's input to every layer",
           "            x = layer.forward(x)\n        return x",
           "            out = layer.forward(x)\n        return out",
           diagnosis="feed each layer's output into the next"),
    Mutant("shared_layer_cache_not_restored", "lets the second use of a layer overwrite the first use's cache",
           "            if uses[id(layer)] > 1:", "            if False:",
           diagnosis="re-run forward"),
    Mutant("shared_layer_gradient_reset", "zeroes each layer's gradients before its backward",
           "            grad_out = layer.backward(grad_out)\n",
           "            layer.zero_grad()\n            grad_out = layer.backward(grad_out)\n",
           diagnosis="second use's gradient was lost"),
    Mutant("residual_forward_without_identity", "returns block(x) instead of x + block(x)",
           "        return x + out", "        return out",
           diagnosis="identity path is missing"),
    Mutant("residual_backward_without_identity", "backpropagates through the block path only",
           "return grad_out + self.block.backward(grad_out)", "return self.block.backward(grad_out)",
           diagnosis="identity path is missing"),
]
