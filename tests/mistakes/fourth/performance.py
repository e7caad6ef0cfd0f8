"""Fourth fresh bank for performance, written after round five's diagnosis changes (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("lap_since_the_start", "charges each lap the time since start() instead of since the mark",
           "        self._parts[name] = self._parts.get(name, 0.0) + (now - self._mark)",
           "        self._parts[name] = self._parts.get(name, 0.0) + (now - self._started)",
           diagnosis="mark|since the start|since start()|overlap|cumulative"),
    Mutant("mlp_update_without_momentum", "steps each MLP parameter by its gradient alone",
           "                u *= self.momentum\n                u += grad\n                p -= u",
           "                p -= grad",
           diagnosis="momentum|velocity"),
    Mutant("loss_gradient_label_unscaled", "subtracts 1 instead of the scale at the labels' entries",
           "    z[rows, labels] -= scale", "    z[rows, labels] -= 1",
           diagnosis="scale|lr / n|one-hot|label entries|some entries|only some"),
    Mutant("loss_summed", "returns the sum of the per-example losses",
           "    loss = float(np.mean(np.log(sums[:, 0]) - picked))", "    loss = float(np.sum(np.log(sums[:, 0]) - picked))",
           diagnosis="mean|sum|batch size|the length of"),
    Mutant("cnn_linear_bias_over_the_classes", "sums the linear layer's g over axis 1 for its bias gradient",
           "        np.sum(g, axis=0, out=grads[5])", "        np.sum(g, axis=1, out=grads[5])",
           diagnosis="axis|batch|sum over"),
    Mutant("mlp_no_bias_on_the_logits", "adds the bias only in the hidden layers",
           "            out += self.b[k]\n            if k < last:",
           "            if k < last:\n                out += self.b[k]",
           diagnosis="bias|last layer|logits"),
    Mutant("mlp_used_columns_with_all", "keeps the input columns that are nonzero in every example (all, not any)",
           "        used = np.flatnonzero(x.any(axis=0))", "        used = np.flatnonzero(x.all(axis=0))",
           diagnosis="any|all|used columns|column|zero"),
    Mutant("cnn_pool1_gradient_axes", "moves the pooled gradient's axes with (0, 3, 1, 2) instead of (3, 0, 1, 2)",
           "grad_a1[...] = grad_a1_padded[:, pad:pad + h2, pad:pad + w2, :].transpose(3, 0, 1, 2)",
           "grad_a1[...] = grad_a1_padded[:, pad:pad + h2, pad:pad + w2, :].transpose(0, 3, 1, 2)",
           diagnosis="transpos|axes|layout|channel"),
]
