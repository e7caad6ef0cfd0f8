"""Fifth fresh bank for performance, written blind in round six (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

# Profiler.start's last line to Profiler.stop's total (for a mistake that spans both).
_START_TO_TOTAL = ('        # </exercise>\n\n    def lap(self, name):\n'
                   '        """Charge the time since the previous mark to part `name` (added to what it has), move the mark."""\n'
                   '        # <exercise>\n        now = time.thread_time()\n'
                   '        self._parts[name] = self._parts.get(name, 0.0) + (now - self._mark)\n'
                   '        self._mark = now\n        # </exercise>\n\n    def stop(self):\n'
                   '        """End the step: the time since the last mark goes to "rest"; keep the step\'s record, total, faults."""\n'
                   '        # <exercise>\n        now = time.thread_time()\n'
                   '        self._parts["rest"] = self._parts.get("rest", 0.0) + (now - self._mark)\n'
                   '        self.records.append(self._parts)\n')

# FastMLP.step from the hidden layers' dL/dx to the end of the update.
_BACKWARD_REST = ('                grad_in = self.grad_in[k][:n]\n'
                  '                np.matmul(g, self.W[k].T, out=grad_in)\n'
                  '                grad_in *= self.out[k - 1][:n] > 0\n'
                  '                g = grad_in\n'
                  '            prof.lap(f"layer {k + 1} backward")\n')

MUTANTS = [
    Mutant("profiler_record_copied_before_rest", "appends a copy of the parts before adding 'rest', so no record has it",
           "        self._parts[\"rest\"] = self._parts.get(\"rest\", 0.0) + (now - self._mark)\n"
           "        self.records.append(self._parts)\n",
           "        self.records.append(dict(self._parts))\n"
           "        self._parts[\"rest\"] = self._parts.get(\"rest\", 0.0) + (now - self._mark)\n",
           diagnosis=("before the rest|rest is missing|without rest|no 'rest'|missing 'rest'|before 'rest'|"
                      "copy before")),
    Mutant("profiler_total_on_the_wall_clock", "times the whole step with time.perf_counter while the parts use time.thread_time",
           "        self._started = self._mark = time.thread_time()\n" + _START_TO_TOTAL
           + "        self.totals.append(now - self._started)\n",
           "        self._mark = time.thread_time()\n        self._started = time.perf_counter()\n" + _START_TO_TOTAL
           + "        self.totals.append(time.perf_counter() - self._started)\n",
           diagnosis="wall clock|wall-clock|perf_counter|two clocks|different clock|another clock|same clock"),
    Mutant("profiler_faults_sign_reversed", "subtracts the faults at stop() from those at start()",
           "self.faults.append(_minor_faults() - self._faults_at_start)",
           "self.faults.append(self._faults_at_start - _minor_faults())",
           diagnosis="sign|reversed|start minus|start() minus|subtracted the wrong way|the other way"),
    Mutant("profiler_totals_in_milliseconds", "records each step's total in milliseconds while the parts are in seconds",
           "self.totals.append(now - self._started)", "self.totals.append(1e3 * (now - self._started))",
           diagnosis="millisecond|unit|1e3|factor 1000|factor of 1000"),
    Mutant("mlp_used_pixels_of_the_first_image", "keeps the input columns that are nonzero in the first image only",
           "used = np.flatnonzero(x.any(axis=0))", "used = np.flatnonzero(x[0])",
           diagnosis="first image|first example|only the first|every image|any image|all images|whole batch"),
    Mutant("mlp_output_buffer_not_sliced", "writes each layer's output into the whole batch_size buffer, not its first n rows",
           "            out = self.out[k][:n]\n", "            out = self.out[k]\n",
           diagnosis="[:n]|short last batch|last batch|smaller batch|n rows|first n"),
    Mutant("mlp_backward_with_updated_weights", "updates each layer as soon as its gradient is known, before dL/dx uses its weights",
           "            if k > 0:  # the first layer's dL/dx would be for the images: nobody needs it\n" + _BACKWARD_REST
           + "        for w, b, k in zip(self.W, self.b, range(len(self.W))):\n"
           "            for p, u, grad in ((w, self.velocity[2 * k], self.grads[2 * k]),\n"
           "                               (b, self.velocity[2 * k + 1], self.grads[2 * k + 1])):\n"
           "                u *= self.momentum\n                u += grad\n                p -= u\n",
           "            for p, u, grad in ((self.W[k], self.velocity[2 * k], self.grads[2 * k]),\n"
           "                               (self.b[k], self.velocity[2 * k + 1], self.grads[2 * k + 1])):\n"
           "                u *= self.momentum\n                u += grad\n                p -= u\n"
           "            if k > 0:  # the first layer's dL/dx would be for the images: nobody needs it\n" + _BACKWARD_REST,
           diagnosis=("updated weights|before the backward|after the update|old weights|before backward|stale|"
                      "already updated")),
    Mutant("mlp_momentum_on_the_gradient", "adds momentum * grad to the velocity instead of decaying the velocity first",
           "                u *= self.momentum\n                u += grad\n",
           "                u += self.momentum * grad\n",
           diagnosis=("momentum times the gradient|multiplies the gradient|decay the velocity|decays the velocity|"
                      "never decays|instead of the velocity")),
    Mutant("mlp_parameters_not_interleaved", "splits params as [W1, W2, W3] and [b1, b2, b3], though they come as W1, b1, W2, b2, ...",
           "self.W, self.b = arrays[0::2], arrays[1::2]",
           "self.W, self.b = arrays[:len(arrays) // 2], arrays[len(arrays) // 2:]",
           diagnosis="interleaved|alternat|w1, b1|order of the parameters|parameter order"),
    Mutant("loss_sums_without_keepdims", "sums the exponentials without keepdims (and takes the log of that sum)",
           "    sums = z.sum(axis=1, keepdims=True)\n    loss = float(np.mean(np.log(sums[:, 0]) - picked))\n",
           "    sums = z.sum(axis=1)\n    loss = float(np.mean(np.log(sums) - picked))\n",
           diagnosis="keepdims"),
    Mutant("cnn_image_in_the_corner", "copies each image into the top-left corner of its padded buffer instead of its interior",
           "x_padded[:, :, pad:pad + height, pad:pad + width] = x", "x_padded[:, :, :height, :width] = x",
           diagnosis="corner|shifted|centred|centered|offset by the padding|interior"),
    Mutant("cnn_conv2_offsets_swapped", "adds offset (i, j)'s block at (j, i) in the second convolution's input gradient",
           "grad_chunk[:, i:i + h2, j:j + w2, :] += block_image", "grad_chunk[:, j:j + h2, i:i + w2, :] += block_image",
           diagnosis="i and j|kernel offset|transposed offset|offsets swapped|swapped offsets|(j, i)"),
    Mutant("cnn_pool_without_relu", "max-pools without the ReLU in forward (backward still masks where out > 0)",
           "    np.maximum(first, 0.0, out=out)\n", "    np.copyto(out, first)\n",
           diagnosis="without the relu|no relu|forgets the relu|negative values|negative maxima|max(0|clamp"),
    Mutant("cnn_linear_backward_untransposed", "multiplies g by W3 instead of W3^T for dL/dfeatures",
           "np.matmul(g, self.params[4].T, out=grad_a2)", "np.matmul(g, self.params[4], out=grad_a2)",
           diagnosis="transpos"),
]
