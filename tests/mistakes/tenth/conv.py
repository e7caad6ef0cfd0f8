"""Tenth fresh bank for conv, written blind on 2026-12-08 in round nine (second freeze) AFTER round nine (second freeze)'s
diagnosis changes were merged (commit ab255a4); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("im2col_pads_batch_axis", "pads the batch and height axes instead of height and width",
           "((0, 0), (padding, padding), (padding, padding), (0, 0))", "((padding, padding), (padding, padding), (0, 0), (0, 0))",
           diagnosis="pad|axes|batch|width|channel axis"),
    Mutant("im2col_columns_channel_major", "flattens the columns in (c, i, j) order instead of (i, j, c)",
           "windows.transpose(0, 1, 2, 4, 5, 3)", "windows.transpose(0, 1, 2, 3, 4, 5)",
           diagnosis="order|channel|column|transpos|layout"),
    Mutant("maxpool_output_size_divides", "computes the output height as height // stride",
           "out_h = (height - kh) // s + 1", "out_h = height // s",
           diagnosis="output size|formula|kernel|odd|+ 1"),
    Mutant("im2col_padding_all_after", "pads only after the image, not before",
           "((0, 0), (padding, padding), (padding, padding), (0, 0))", "((0, 0), (0, 2 * padding), (0, 2 * padding), (0, 0))",
           diagnosis="padding|both sides|one side|shift|offset"),
    Mutant("im2col_windows_over_width_and_channels", "slides the window over axes (2, 3) of the channels-last array",
           "sliding_window_view(xp, (kh, kw), axis=(1, 2))", "sliding_window_view(xp, (kh, kw), axis=(2, 3))",
           diagnosis="axes|height|width|channel|window"),
    Mutant("col2im_reshape_instead_of_transpose", "reshapes the channels-last result to (N, C, H, W) instead of transposing",
           "return padded[:, padding:padding + height, padding:padding + width, :].transpose(0, 3, 1, 2)",
           "return padded[:, padding:padding + height, padding:padding + width, :].reshape(n, channels, height, width)",
           diagnosis="transpos|reshape|layout|channel|order"),
    Mutant("conv_input_gradient_flag_inverted", "returns None exactly when the input gradient is wanted",
           "if not self.input_gradient:\n            return None\n        grad_cols", "if self.input_gradient:\n            return None\n        grad_cols",
           diagnosis="inverted|flag|none|input_gradient|opposite"),
    Mutant("maxpool_backward_ignores_stride", "adds each offset's gradient to consecutive pixels, ignoring the stride",
           "grad_x[:, :, i:i + s * out_h:s, j:j + s * out_w:s] += routed[..., i, j]", "grad_x[:, :, i:i + out_h, j:j + out_w] += routed[..., i, j]",
           diagnosis="stride|spacing|offset|consecutive"),
    Mutant("maxpool_backward_offsets_swapped", "routes offset (j, i)'s gradient to offset (i, j)",
           "+= routed[..., i, j]", "+= routed[..., j, i]",
           diagnosis="swapped|offset|i and j|transpos|position"),
    Mutant("flatten_ravels_batch", "flattens everything into one vector, batch included",
           "return x.reshape(x.shape[0], -1)", "return x.ravel()",
           diagnosis="batch|per example|rows|2-d|one vector"),
]
