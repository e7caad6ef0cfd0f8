"""Seventh fresh bank for performance, written blind on 2026-12-07 in round seven AFTER round seven's diagnosis
changes were merged (commit a774e56); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    # Profiler
    Mutant("profiler_lap_reversed_difference", "adds mark - now to the part: every lap is negative",
           "self._parts[name] = self._parts.get(name, 0.0) + (now - self._mark)",
           "self._parts[name] = self._parts.get(name, 0.0) + (self._mark - now)",
           diagnosis="negative|reversed|mark - now|opposite|minus"),
    Mutant("profiler_record_parts_sorted", "records the parts sorted by name instead of in the order of the laps",
           "self.records.append(self._parts)", "self.records.append(dict(sorted(self._parts.items())))",
           diagnosis="sorted|alphabetical|order of the laps|in the order"),
    Mutant("profiler_record_cleared_after_stop", "clears the recorded dictionary instead of dropping the reference, "
           "so every record is empty",
           "self._faults_at_start)\n        self._parts = None\n",
           "self._faults_at_start)\n        self._parts.clear()\n",
           diagnosis="empty|cleared|same dictionary|alias|copy|no parts"),
    Mutant("profiler_total_without_the_rest", "leaves the rest out of the step's total",
           "self.totals.append(now - self._started)",
           "self.totals.append(now - self._started - self._parts[\"rest\"])",
           diagnosis="rest|leaves out|without the rest|sum of the parts|less than"),
    # FastMLP
    Mutant("mlp_velocity_starts_at_ones", "creates the velocities with np.ones_like",
           "self.velocity = [np.zeros_like(a) for a in arrays]", "self.velocity = [np.ones_like(a) for a in arrays]",
           diagnosis="velocit|ones|initial|not zero|start at zero"),
    Mutant("mlp_first_rows_not_the_used_ones", "multiplies by the first len(used) rows of W1 instead of its used rows",
           "np.matmul(h, W[used] if k == 0 else W, out=out)",
           "np.matmul(h, W[:len(used)] if k == 0 else W, out=out)",
           diagnosis="used rows|first rows|used columns|selected|w1[used]|pixels"),
    Mutant("mlp_relu_skipped_on_the_last_hidden_layer", "applies ReLU only while k < last - 1",
           "            if k < last:\n", "            if k < last - 1:\n",
           diagnosis="relu|last hidden|activation|off by one|hidden layer"),
    Mutant("mlp_loss_gradient_without_lr", "scales the loss gradient by 1 / n only, forgetting the folded lr",
           "loss = _softmax_cross_entropy_step(g, labels, self.lr / n)\n        prof.lap(\"loss and its gradient\")\n"
           "        for k in range(last, -1, -1):",
           "loss = _softmax_cross_entropy_step(g, labels, 1.0 / n)\n        prof.lap(\"loss and its gradient\")\n"
           "        for k in range(last, -1, -1):",
           diagnosis="learning rate|1/lr|lr times|without lr|folded"),
    Mutant("mlp_backward_loop_stops_before_the_first_layer", "loops range(last, 0, -1): the first layer's "
           "gradients are never computed",
           "for k in range(last, -1, -1):", "for k in range(last, 0, -1):",
           diagnosis="first layer|layer 1|never computed|not updated|range|skipped"),
    Mutant("mlp_weights_updated_with_the_bias_gradient", "pairs each weight with the bias's gradient (index typo)",
           "(w, self.velocity[2 * k], self.grads[2 * k])", "(w, self.velocity[2 * k], self.grads[2 * k + 1])",
           diagnosis="bias gradient|index|2 * k + 1|broadcast|weights get"),
    # FastCNN
    Mutant("cnn_conv1_first_channel_bias_everywhere", "adds b1[0] to every channel of the first convolution",
           "y1 += b1[:, None]", "y1 += b1[0]",
           diagnosis="b1[0]|first channel|one bias|same bias|channel 0"),
    Mutant("cnn_pool1_forward_height_width_swapped", "transposes a1 to (n, w, h, c) for the second convolution",
           "a1_padded[:, pad:pad + h2, pad:pad + w2, :] = a1.transpose(1, 2, 3, 0)",
           "a1_padded[:, pad:pad + h2, pad:pad + w2, :] = a1.transpose(1, 3, 2, 0)",
           diagnosis="transpos|height and width|swapped|h and w|permut"),
    Mutant("cnn_conv2_bias_gradient_averaged", "averages the second convolution's bias gradient over the pixels",
           "np.matmul(self.ones[:len(G2)], G2, out=grads[3])",
           "np.matmul(self.ones[:len(G2)] / len(G2), G2, out=grads[3])",
           diagnosis="averag|1/|divided by|number of pixels|per pixel"),
    Mutant("cnn_velocity_decayed_by_lr", "decays the velocity by lr instead of the momentum",
           "        for p, u, grad in zip(self.params, self.velocity, self.grads):\n            u *= self.momentum\n",
           "        for p, u, grad in zip(self.params, self.velocity, self.grads):\n            u *= self.lr\n",
           diagnosis="momentum|lr instead|decay|velocit"),
    Mutant("cnn_parameters_W1_channels_swapped", "reshapes W1 back as (c0, c1, k, k)",
           "return [W1.reshape(c1, c0, k, k).copy(), b1.copy(),", "return [W1.reshape(c0, c1, k, k).copy(), b1.copy(),",
           diagnosis="swapped|c0, c1|in and out|channels|order of the axes"),
    Mutant("cnn_parameters_W3_height_width_swapped", "permutes W3's rows back with height and width swapped",
           "W3.reshape(height // 4, width // 4, c2, classes).transpose(2, 0, 1, 3)",
           "W3.reshape(height // 4, width // 4, c2, classes).transpose(2, 1, 0, 3)",
           diagnosis="transpos|height and width|swapped|permut|h and w"),
]
