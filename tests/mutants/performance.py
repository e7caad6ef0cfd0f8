"""Known-wrong variants of solutions/performance.py (spoilers: each quotes a line of the reference)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("lap_keeps_the_mark", "lap() adds the time since the mark but never moves the mark",
           "self._parts[name] = self._parts.get(name, 0.0) + (now - self._mark)\n        self._mark = now",
           "self._parts[name] = self._parts.get(name, 0.0) + (now - self._mark)",
           diagnosis="the parts overlap"),
    Mutant("lap_overwrites_a_repeated_part", "a part lapped twice in one step keeps only its last lap",
           "self._parts[name] = self._parts.get(name, 0.0) + (now - self._mark)",
           "self._parts[name] = now - self._mark",
           diagnosis="gets the SUM of its laps"),
    Mutant("stop_forgets_the_rest", "stop() does not charge the time since the last lap to 'rest'",
           'self._parts["rest"] = self._parts.get("rest", 0.0) + (now - self._mark)', "pass",
           diagnosis="stop() adds 'rest'"),
    Mutant("start_clears_the_history", "start() empties the lists of earlier steps",
           "self._parts = {}\n        self._faults_at_start",
           "self._parts = {}\n        self.records, self.totals, self.faults = [], [], []\n        self._faults_at_start",
           diagnosis="start() must not clear them"),
    Mutant("mlp_velocity_overwritten", "a forgotten +=: the velocity is overwritten by the gradient each step",
           "                u *= self.momentum\n                u += grad",
           "                u *= self.momentum\n                u[...] = grad",
           diagnosis="SGD WITHOUT momentum"),
    Mutant("mlp_last_batch_over_batch_size", "the shorter last batch is averaged over batch_size, not its n",
           'loss = _softmax_cross_entropy_step(g, labels, self.lr / n)\n        prof.lap("loss and its gradient")\n'
           "        for k in range(last",
           'loss = _softmax_cross_entropy_step(g, labels, self.lr / len(self.ones))\n'
           '        prof.lap("loss and its gradient")\n        for k in range(last',
           diagnosis="instead of its own n"),
    Mutant("mlp_parameters_not_copied", "keeps the caller's float32 arrays and trains them in place",
           "arrays = [np.array(p, dtype=np.float32) for p in params]  # copies, float32",
           "arrays = [np.asarray(p, dtype=np.float32) for p in params]",
           diagnosis="modified its input in place"),
    Mutant("cnn_linear_rows_not_permuted", "feeds channels-last features to W3 in Flatten's (c, h, w) row order",
           "self.W3 = np.ascontiguousarray(W3.reshape(c2, h4, w4, -1).transpose(1, 2, 0, 3).reshape(h4 * w4 * c2, -1))",
           "self.W3 = W3.reshape(h4 * w4 * c2, -1)",
           diagnosis="W3's rows still in Flatten's (c, h, w) order"),
    Mutant("cnn_weight_columns_channels_first", "W2 as (out, c*i*j) while the windows' columns are (i, j, c)",
           "self.W2 = np.ascontiguousarray(W2.transpose(0, 2, 3, 1).reshape(c2, -1))",
           "self.W2 = W2.reshape(c2, -1)",
           diagnosis="your layouts converted back to the textbook's"),
    Mutant("cnn_col2im_assigns", "col2im writes each kernel offset's block with = instead of +=",
           "grad_chunk[:, i:i + h2, j:j + w2, :] += block_image",
           "grad_chunk[:, i:i + h2, j:j + w2, :] = block_image",
           diagnosis="with = instead of +="),
    Mutant("cnn_stale_col2im_buffer", "never clears the buffer col2im adds into, so old steps' gradients stay",
           "        grad_padded[...] = 0.0\n", "",
           diagnosis="a stale buffer"),
    Mutant("cnn_pool_ties_all_get_it", "every tied maximum of a window takes the whole gradient",
           "        remaining -= routed  # a later tie gets nothing: the first maximum took it all\n", "",
           diagnosis="EVERY position equal to its maximum"),
]

# Correct rewrites: every test must pass them (another speed, the same numbers).
LEGITIMATE = [
    Mutant("mlp_every_input_column", "uses every input column, zero or not (slower, same result)",
           "used = np.flatnonzero(x.any(axis=0))", "used = np.arange(x.shape[1])", diagnosis=""),
    Mutant("mlp_velocity_as_a_new_array", "writes the velocity update as one expression into the buffer",
           "                u *= self.momentum\n                u += grad",
           "                u[...] = self.momentum * u + grad", diagnosis=""),
    Mutant("cnn_whole_batch_in_one_chunk", "no cache blocking: the second convolution on the whole batch at once",
           "CHUNK = 8", "CHUNK = 4096", diagnosis=""),
    Mutant("cnn_one_image_per_chunk", "the second convolution one image at a time",
           "CHUNK = 8", "CHUNK = 1", diagnosis=""),
    Mutant("cnn_bias_gradient_as_a_sum", "dL/db as a sum over the rows instead of 1^T G",
           "np.matmul(self.ones[:len(G2)], G2, out=grads[3])", "np.sum(G2, axis=0, out=grads[3])", diagnosis=""),
]

# Issue 19: two profiler mistakes no test caught before (test_profiler_counts_the_page_faults_of_each_step_only,
# test_profiler_keeps_a_record_of_its_own_for_every_step).
MUTANTS += [
    Mutant("profiler_faults_since_the_process_started", "reports ru_minflt at stop() without subtracting start()'s",
           "self.faults.append(_minor_faults() - self._faults_at_start)", "self.faults.append(_minor_faults())",
           diagnosis="not the process's count since it started"),
    Mutant("profiler_one_reused_record", "keeps one dict for every step, cleared in start()",
           "        self._parts = {}\n",
           "        self._parts = self.__dict__.setdefault('_reused', {})\n        self._parts.clear()\n",
           diagnosis="one dictionary object, reused"),
]
