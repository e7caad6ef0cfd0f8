"""Eighth fresh bank for conv, written blind on 2026-12-07 in round eight AFTER round eight's diagnosis
changes were merged (commit 3a1f4a2); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("im2col_pad_all_axes", "pads the batch and channel axes too",
           "xp = np.pad(x.transpose(0, 2, 3, 1), ((0, 0), (padding, padding), (padding, padding), (0, 0)))",
           "xp = np.pad(x.transpose(0, 2, 3, 1), padding)",
           diagnosis="pad|batch|channel|every axis|all axes"),
    Mutant("im2col_no_stride", "ignores the stride when taking the windows",
           "windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]",
           "windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, :out_h, :out_w]",
           diagnosis="stride|step|every window|skip"),
    Mutant("maxpool_output_size_ceil", "rounds the output size up",
           "out_h = (height - kh) // s + 1\n", "out_h = -(-(height - kh) // s) + 1\n",
           diagnosis="floor|ceil|round|output size"),
    Mutant("maxpool_all_maxima", "routes the gradient to every entry equal to the maximum",
           "self._first_max = np.arange(kh * kw) == windows.argmax(axis=-1)[..., np.newaxis]",
           "self._first_max = windows == windows.max(axis=-1, keepdims=True)",
           diagnosis="tie|every|all maxima|first|duplicate|twice"),
    Mutant("flatten_merges_batch_axis", "flattens the batch axis too",
           "return x.reshape(x.shape[0], -1)", "return x.reshape(1, -1)",
           diagnosis="batch|first axis|per example"),
    Mutant("flatten_backward_transposed", "restores the shape with a transpose order",
           "return grad_out.reshape(self._shape)", "return grad_out.T.reshape(self._shape)",
           diagnosis="transpose|order|layout|reshape"),
    Mutant("conv_output_size_ignores_padding", "computes the output size in forward without the padding",
           "out_h = output_size(height, kh, self.stride, self.padding)\n        out_w = output_size(width, kw, self.stride, self.padding)\n        self._x_shape",
           "out_h = output_size(height, kh, self.stride, 0)\n        out_w = output_size(width, kw, self.stride, 0)\n        self._x_shape",
           diagnosis="padding|output size|reshape"),
    Mutant("maxpool_width_from_height", "computes the output width from the height (copy-paste)",
           "out_w = (width - kw) // s + 1", "out_w = (height - kw) // s + 1",
           diagnosis="width|height|copy|non-square|rectangular"),
]
