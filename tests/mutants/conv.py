"""Known-wrong variants of solutions/conv.py (spoilers: each quotes a line of the reference)."""

from grader.maintainer.mutation import Mutant

_COL2IM_ADD = ("padded[:, i:i + stride * out_h:stride, j:j + stride * out_w:stride, :] += "
               "blocks[:, :, :, i, j, :]")

MUTANTS = [
    Mutant("col2im_overwrites", "assigns each window into the image instead of adding, so overlaps are lost",
           _COL2IM_ADD, _COL2IM_ADD.replace(" += ", " = "),
           diagnosis="overwrote"),
    # Issue 9 item 6: the same mistake with the windows visited in another order, which the fold test's
    # known-wrong answer does not reproduce; the adjoint test must still name it.
    Mutant("col2im_overwrites_last_offset_first", "assigns each window (=), visiting the offsets backwards",
           "    for i in range(kh):\n        for j in range(kw):\n"
           "            # +=, not =: a pixel covered by several windows collects a contribution from each.\n"
           "            " + _COL2IM_ADD,
           "    for i in reversed(range(kh)):\n        for j in reversed(range(kw)):\n"
           "            " + _COL2IM_ADD.replace(" += ", " = "),
           diagnosis="overlapping windows must be added", misdiagnosis="constant factor"),
    Mutant("col2im_keeps_padding", "returns the padded image from col2im without cutting the padding off",
           "return padded[:, padding:padding + height, padding:padding + width, :].transpose(0, 3, 1, 2)",
           "return padded.transpose(0, 3, 1, 2)",
           diagnosis="cut the padding off"),
    Mutant("im2col_channel_first_columns", "orders each row (c, i, j) while the weights expect (i, j, c)",
           "return windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * out_h * out_w, kh * kw * channels)",
           "return windows.reshape(n * out_h * out_w, kh * kw * channels)",
           diagnosis="(c, i, j) order"),
    Mutant("weight_grad_wrong_reshape", "reshapes G^T cols straight to (out, in, kh, kw)",
           "grad_w.reshape(out_channels, kh, kw, in_channels).transpose(0, 3, 1, 2)",
           "grad_w.reshape(out_channels, in_channels, kh, kw)",
           diagnosis="reshaped straight to (out, in, kh, kw)"),
    Mutant("bias_grad_mean_over_batch", "averages the bias gradient over the batch",
           "self.b.grad += grad.sum(axis=0)", "self.b.grad += grad.sum(axis=0) / len(grad_out)",
           diagnosis="batch size"),
    Mutant("bias_grad_mean_over_pixels", "averages the bias gradient over all samples and pixels",
           "self.b.grad += grad.sum(axis=0)", "self.b.grad += grad.mean(axis=0)",
           diagnosis="over all N*OH*OW"),
    Mutant("input_grad_flipped_kernel", "uses the flipped kernel for dL/dx, as in a textbook convolution",
           "grad_cols = grad @ self._weight_matrix()",
           "grad_cols = grad @ self.W.data[:, :, ::-1, ::-1].transpose(0, 2, 3, 1).reshape(out_channels, -1)",
           diagnosis="kernel flipped"),
    Mutant("maxpool_gradient_everywhere", "copies the gradient to every position of the window",
           "routed = (grad_out[..., np.newaxis] * self._first_max)",
           "routed = (grad_out[..., np.newaxis] * np.ones_like(self._first_max))",
           diagnosis="every position of the window"),
    Mutant("maxpool_gradient_averaged", "shares the gradient equally over the window (average pooling)",
           "routed = (grad_out[..., np.newaxis] * self._first_max)",
           "routed = (grad_out[..., np.newaxis] * np.ones_like(self._first_max) / (kh * kw))",
           diagnosis="AVERAGE pooling"),
    Mutant("maxpool_ties_all_get_it", "gives the full gradient to every tied maximum",
           "self._first_max = np.arange(kh * kw) == windows.argmax(axis=-1)[..., np.newaxis]",
           "self._first_max = windows == windows.max(axis=-1)[..., np.newaxis]",
           diagnosis="EVERY tied maximum"),
]

# Issue 19: mistakes that used to fail with a raw NumPy error or an unnamed difference.
MUTANTS += [
    Mutant("im2col_ignores_stride", "never steps the windows by the stride",
           "windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]",
           "windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))", diagnosis="a stride, padding or axis left out"),
    Mutant("maxpool_backward_assigns", "assigns the routed gradient where overlapping windows must add",
           "grad_x[:, :, i:i + s * out_h:s, j:j + s * out_w:s] += routed[..., i, j]",
           "grad_x[:, :, i:i + s * out_h:s, j:j + s * out_w:s] = routed[..., i, j]", diagnosis="overlap"),
]

# Round seven: sizes that show the slip (the output width from the height, the pooling windows strided along one
# axis), the inverse permutation, a float64 pooling gradient, and a Flatten that loses the batch axis.
MUTANTS += [
    Mutant("im2col_out_w_from_height", "computes the output width from the height (copy-paste)",
           "    out_w = output_size(width, kw, stride, padding)\n    # Channels last, (N, H, W, C)",
           "    out_w = output_size(height, kw, stride, padding)\n    # Channels last, (N, H, W, C)",
           diagnosis="the output width computed from the height"),
    Mutant("maxpool_windows_strided_along_the_height_only", "steps the pooling windows by the stride along the height only",
           "windows = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::s, ::s]",
           "windows = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::s]",
           diagnosis="the windows strided along the height only"),
    Mutant("col2im_forward_permutation_back", "turns the channels-last image back with the forward permutation",
           "padding:padding + width, :].transpose(0, 3, 1, 2)", "padding:padding + width, :].transpose(0, 2, 3, 1)",
           diagnosis="the inverse of the permutation"),
    Mutant("maxpool_grad_in_float64", "builds the input gradient with np.zeros(shape), float64 for float32 inputs",
           "grad_x = np.zeros(self._x_shape, dtype=grad_out.dtype)", "grad_x = np.zeros(self._x_shape)",
           diagnosis="its dtype is float64"),
    Mutant("flatten_everything", "flattens the whole batch into one vector", "return x.reshape(x.shape[0], -1)",
           "return x.reshape(-1)", diagnosis="not one vector for the whole batch"),
]
MUTANTS += [
    Mutant("col2im_buffer_float64", "builds col2im's buffer without the columns' dtype",
           "padded = np.zeros((n, height + 2 * padding, width + 2 * padding, channels), dtype=cols.dtype)",
           "padded = np.zeros((n, height + 2 * padding, width + 2 * padding, channels))", diagnosis="dtype is float64"),
]
