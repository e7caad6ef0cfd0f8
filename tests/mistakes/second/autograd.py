"""Second fresh bank for autograd, written after the diagnosis changes."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("add_not_unbroadcast", "returns g to both operands of +",
           "return (unbroadcast(g, a.data.shape) if a.requires_grad else None,\n"
           "                    unbroadcast(g, b.data.shape) if b.requires_grad else None)",
           "return (g if a.requires_grad else None,\n                    g if b.requires_grad else None)",
           diagnosis="broadcast|sum"),
    Mutant("neg_gradient_unchanged", "passes g through negation",
           "            return (-g,)", "            return (g,)", diagnosis="sign"),
    Mutant("div_gradient_times_b", "multiplies by b in d(a/b)/da",
           "unbroadcast(g / b.data, a.data.shape)", "unbroadcast(g * b.data, a.data.shape)", diagnosis="divide|1/b"),
    Mutant("pow_gradient_exponent_not_lowered", "uses a^b instead of a^(b-1)",
           "g * b.data * a.data ** (b.data - 1)", "g * b.data * a.data ** b.data", diagnosis="exponent|b - 1|factor"),
    Mutant("sigmoid_gradient_without_1_minus", "multiplies by s only",
           "return (g * out * (1 - out),)", "return (g * out,)", diagnosis="1 - s|factor"),
    Mutant("getitem_gradient_buffered_add", "adds with grad[index] += g (repeated indices count once)",
           "            np.add.at(grad, index, g)", "            grad[index] += g", diagnosis="repeated|add.at|duplicate|once"),
    Mutant("mean_gradient_without_count", "broadcasts g without dividing",
           "return (np.broadcast_to(g / count, a.data.shape),)", "return (np.broadcast_to(g, a.data.shape),)",
           diagnosis="count|mean|1/"),
    Mutant("matmul_grad_a_wrong_order", "computes B^T g instead of g B^T",
           "grad_a = unbroadcast(g @ np.swapaxes(b2, -1, -2), a2.shape)", "grad_a = unbroadcast(np.swapaxes(b2, -1, -2) @ g, a2.shape)",
           diagnosis="order|transpose"),
    Mutant("records_under_no_grad", "records the graph under no_grad",
           "recording = _grad_enabled and any(p.requires_grad for p in parents)",
           "recording = any(p.requires_grad for p in parents)", diagnosis="no_grad"),
    Mutant("relu_gradient_at_zero", "passes the gradient where x == 0",
           "return (g * (a.data > 0),)", "return (g * (a.data >= 0),)", diagnosis="0|mask|where"),
    Mutant("cross_entropy_without_upstream", "ignores the upstream g",
           "probs *= g / n", "probs /= n", diagnosis="upstream|g "),
    Mutant("exp_gradient_of_the_output", "multiplies by exp(out)",
           "        out = np.exp(a.data)\n\n        def backward(g):\n            return (g * out,)",
           "        out = np.exp(a.data)\n\n        def backward(g):\n            return (g * np.exp(out),)", diagnosis="exp"),
]
