"""Seventh fresh bank for autograd, written blind on 2026-12-07 in round seven AFTER round seven's diagnosis
changes were merged (commit a774e56); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("sub_gradient_of_a_negated", "negates the gradient of the left operand of a - b as well",
           "            return (unbroadcast(g, a.data.shape) if a.requires_grad else None,\n"
           "                    unbroadcast(-g, b.data.shape)",
           "            return (unbroadcast(-g, a.data.shape) if a.requires_grad else None,\n"
           "                    unbroadcast(-g, b.data.shape)",
           diagnosis="negated|minus|opposite|left operand|first operand|-1"),
    Mutant("sum_backward_divides_like_mean", "copies mean's backward into sum: divides by the number of entries",
           "            return (np.broadcast_to(g, a.data.shape),)\n",
           "            return (np.broadcast_to(g / a.data.size, a.data.shape),)\n",
           diagnosis="divided by the number|1/n|number of entries|like mean|mean's"),
    Mutant("log_gradient_negated", "writes -g / x for the derivative of log",
           "            return (g / a.data,)\n", "            return (-g / a.data,)\n",
           diagnosis="negated|minus|opposite|-1/x|-g"),
    Mutant("tanh_gradient_sigmoid_formula", "copies the sigmoid's out (1 - out) as tanh's derivative",
           "            return (g * (1 - out * out),)\n", "            return (g * out * (1 - out),)\n",
           diagnosis="sigmoid|out (1 - out)|y(1 - y)|1 - y^2|copy"),
    Mutant("topological_order_includes_constants", "walks into parents that do not require a gradient, so "
           "constants receive a .grad",
           "if parent.requires_grad and parent not in visited:", "if parent not in visited:",
           diagnosis="requires_grad|constant|does not require|not require"),
    Mutant("pow_gradient_coefficient_minus_one", "writes (b - 1) a^(b - 1) for b a^(b - 1)",
           "unbroadcast(g * b.data * a.data ** (b.data - 1), a.data.shape)",
           "unbroadcast(g * (b.data - 1) * a.data ** (b.data - 1), a.data.shape)",
           diagnosis="b - 1|coefficient|exponent - 1|off by one|(b - 1)"),
    Mutant("mean_gradient_times_count", "multiplies by the count instead of dividing",
           "np.broadcast_to(g / count, a.data.shape)", "np.broadcast_to(g * count, a.data.shape)",
           diagnosis="multipl|instead of dividing|times n|times the count|count^2|n^2"),
    Mutant("sigmoid_branches_swapped", "puts e / (1 + e) on the x >= 0 side",
           "out = np.where(a.data >= 0, 1 / (1 + e), e / (1 + e))",
           "out = np.where(a.data >= 0, e / (1 + e), 1 / (1 + e))",
           diagnosis="branches swapped|swapped|1 - sigmoid|complement|sigmoid(-x)|1 - s"),
    Mutant("unbroadcast_sums_only_axis_0", "sums only axis 0 when the gradient has extra leading axes",
           "grad = grad.sum(axis=tuple(range(extra)))", "grad = grad.sum(axis=0)",
           diagnosis="leading axes|extra axes|only axis 0|only one axis|broadcast"),
]
