"""Tenth fresh bank for performance, written blind on 2026-12-08 in round nine (second freeze) AFTER round nine (second freeze)'s
diagnosis changes were merged (commit ab255a4); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    # Profiler
    Mutant("profiler_stop_forgets_rest", "stop() records no 'rest' part for the time after the last lap",
           "        self._parts[\"rest\"] = self._parts.get(\"rest\", 0.0) + (now - self._mark)\n", "",
           diagnosis="rest|remainder|after the last|unaccounted|missing"),
    # shared helpers of the fast steps
    # FastMLP.step
    Mutant("mlp_forward_no_bias", "leaves out the bias in the forward loop",
           "            out += self.b[k]\n", "",
           diagnosis="bias|missing|offset"),
    # FastCNN.step
    Mutant("cnn_loss_scale_not_divided", "scales the CNN's loss gradient by lr instead of lr / n",
           "g = logits\n        loss = _softmax_cross_entropy_step(g, labels, self.lr / n)",
           "g = logits\n        loss = _softmax_cross_entropy_step(g, labels, self.lr)",
           diagnosis="batch size|mean|divide|scale|1/n"),
    Mutant("cnn_update_rebinds_velocity", "writes u = momentum * u + grad, which rebinds the name and loses the velocity",
           "            u *= self.momentum\n            u += grad\n            p -= u\n",
           "            u = self.momentum * u + grad\n            p -= u\n",
           diagnosis="velocity|stored|rebind|in place|lost"),
    Mutant("profiler_start_keeps_old_parts", "start() does not make a fresh dict of parts",
           "        self._parts = {}\n        self._faults_at_start", "        self._faults_at_start",
           diagnosis="reset|fresh|previous|stale|start"),
    Mutant("profiler_faults_baseline_zero", "takes 0 as the page-fault count at the start",
           "self._faults_at_start = _minor_faults()", "self._faults_at_start = 0",
           diagnosis="since|difference|absolute|cumulative|at start"),
    Mutant("profiler_lap_wall_clock", "lap() reads the wall clock while start and stop read the thread clock",
           "        now = time.thread_time()\n        self._parts[name]", "        now = time.time()\n        self._parts[name]",
           diagnosis="clock|time.time|thread_time|mixed|same clock"),
    Mutant("fused_loss_gradient_unscaled_softmax", "normalises the softmax without the scale but subtracts the scale",
           "z *= scale / sums", "z /= sums",
           diagnosis="scale|lr|1/n|inconsistent|softmax"),
    Mutant("pool_window_offsets_column_major", "lists the window offsets column by column",
           "return [y[:, i::2, j::2] for i in (0, 1) for j in (0, 1)]", "return [y[:, i::2, j::2] for j in (0, 1) for i in (0, 1)]",
           diagnosis="tie|first|order|row-major|column"),
    Mutant("mlp_first_grad_rebound", "binds the first layer's gradient to a new local array instead of the buffer",
           "                grad_W[...] = 0.0\n                grad_W[used] = x_used.T @ g\n", "                grad_W = x_used.T @ g\n",
           diagnosis="rebind|buffer|stored|in place|written"),
]
