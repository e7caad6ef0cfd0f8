"""Known-wrong variants of solutions/autograd.py (spoilers: each quotes a line of the reference)."""

from grader.maintainer.mutation import Mutant

_ITERATIVE_SORT = """        order = []
        visited = set()
        stack = [(self, False)]
        while stack:
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
                continue
            if node in visited:
                continue
            visited.add(node)
            stack.append((node, True))
            for parent in node._parents:
                if parent.requires_grad and parent not in visited:
                    stack.append((parent, False))
        return order
"""

_RECURSIVE_SORT = """        order = []
        visited = set()

        def visit(node):
            if node in visited:
                return
            visited.add(node)
            for parent in node._parents:
                if parent.requires_grad:
                    visit(parent)
            order.append(node)

        visit(self)
        return order
"""

MUTANTS = [
    Mutant("broadcast_not_summed", "returns the gradient of the broadcast result for a broadcast operand",
           "    if grad.shape == shape:\n        return grad\n", "    return grad\n",
           diagnosis="summed over the broadcast axes"),
    Mutant("shared_gradient_overwritten", "overwrites a node's gradient when a second use delivers one",
           "grads[parent] = grads[parent] + parent_grad", "grads[parent] = parent_grad",
           diagnosis="not overwritten"),
    # Issue 9 item 4: with a correct topological order and only this mistake, the shared-intermediate test
    # must name the accumulation (its message says "+="; the tensor-used-twice test's says "+"), not the order.
    Mutant("shared_gradient_assigned_with_a_correct_order",
           "assigns (=) each gradient that reaches a node, so only the last use counts; the order is right",
           "                if parent in grads:\n"
           "                    # Not `+=`: the stored array may alias g of another node or the caller's array.\n"
           "                    grads[parent] = grads[parent] + parent_grad\n"
           "                else:\n"
           "                    grads[parent] = parent_grad\n",
           "                grads[parent] = parent_grad\n",
           diagnosis="accumulate with +=", misdiagnosis="topological order"),
    Mutant("leaf_gradient_assigned", "assigns a leaf's .grad on every backward call instead of adding",
           "node.grad += g", "node.grad = np.array(g, dtype=node.data.dtype)",
           diagnosis="across backward calls"),
    Mutant("product_without_upstream", "forgets the chain-rule factor g in the product's gradient",
           "unbroadcast(g * b.data, a.data.shape)", "unbroadcast(b.data, a.data.shape)",
           diagnosis="without the upstream gradient"),
    Mutant("subtraction_sign", "gives the subtracted operand +g instead of -g",
           "unbroadcast(-g, b.data.shape)", "unbroadcast(g, b.data.shape)",
           diagnosis="minus sign is lost"),
    Mutant("leaf_gradient_aliased", "stores the incoming gradient array itself as a leaf's first .grad",
           "node.grad = np.array(g, dtype=node.data.dtype)", "node.grad = g",
           diagnosis="aliasing"),
    Mutant("index_gradient_overwritten", "scatters the indexing gradient with assignment, not np.add.at",
           "np.add.at(grad, index, g)\n", "grad[index] = g\n",
           diagnosis="np.add.at"),
    Mutant("visited_when_pushed", "marks a node visited when it is pushed, so shared nodes come too early",
           "            if node in visited:\n                continue\n            visited.add(node)\n"
           "            stack.append((node, True))\n            for parent in node._parents:\n"
           "                if parent.requires_grad and parent not in visited:\n"
           "                    stack.append((parent, False))\n",
           "            stack.append((node, True))\n            for parent in node._parents:\n"
           "                if parent.requires_grad and parent not in visited:\n"
           "                    visited.add(parent)\n                    stack.append((parent, False))\n",
           diagnosis="topological order is wrong"),
    Mutant("recursive_sort", "builds the topological order with a recursive function",
           _ITERATIVE_SORT, _RECURSIVE_SORT,
           diagnosis="explicit stack"),
    Mutant("cross_entropy_without_max", "exponentiates the logits without subtracting the row maximum",
           "shifted = z - z.max(axis=1, keepdims=True)", "shifted = z",
           diagnosis="subtract each row's maximum"),
]

# Issue 19: a misdiagnosis (an overflow named for a formula mistake) and a raw NumPy error.
MUTANTS += [
    Mutant("mul_gradients_swapped", "gives each operand its own value as the gradient factor",
           "return (unbroadcast(g * b.data, a.data.shape) if a.requires_grad else None,\n"
           "                    unbroadcast(g * a.data, b.data.shape) if b.requires_grad else None)",
           "return (unbroadcast(g * a.data, a.data.shape) if a.requires_grad else None,\n"
           "                    unbroadcast(g * b.data, b.data.shape) if b.requires_grad else None)",
           diagnosis="gradients of a * b are swapped", misdiagnosis="something overflowed"),
    Mutant("sum_without_expand_dims", "broadcasts the gradient of sum(axis) without restoring the axis",
           "            if axis is not None and not keepdims:\n                g = np.expand_dims(g, axis)\n"
           "            return (np.broadcast_to(g, a.data.shape),)",
           "            return (np.broadcast_to(g, a.data.shape),)", diagnosis="expand_dims"),
]

# Round seven: a broadcast FIRST operand of a product, a mean over the last axis of a square matrix, and a
# node reached along two paths, none of which any test met before.
MUTANTS += [
    Mutant("mul_a_not_unbroadcast", "returns g * b for the first operand without summing over the broadcast axes",
           "unbroadcast(g * b.data, a.data.shape) if a.requires_grad else None",
           "g * b.data if a.requires_grad else None", diagnosis="summed over the broadcast axes"),
    Mutant("mean_without_expand_dims", "broadcasts the mean's gradient without restoring the reduced axis",
           "            if axis is not None and not keepdims:\n                g = np.expand_dims(g, axis)\n"
           "            return (np.broadcast_to(g / count, a.data.shape),)\n",
           "            return (np.broadcast_to(g / count, a.data.shape),)\n", diagnosis="np.expand_dims(g, axis)"),
    Mutant("topological_order_revisits_nodes", "drops the visited check when a node is popped",
           "            if node in visited:\n                continue\n", "", diagnosis="expanded and appended more than once"),
    Mutant("log_gradient_over_the_output", "divides g by log(a), the output, instead of by a",
           "            return (g / a.data,)\n", "            return (g / np.log(a.data),)\n",
           diagnosis="evaluated at the output instead of the input"),
]
