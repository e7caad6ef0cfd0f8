"""Seventh fresh bank for conv, written blind on 2026-12-07 in round seven AFTER round seven's diagnosis
changes were merged (commit a774e56); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("im2col_out_size_without_padding", "computes im2col's output size with padding 0 while padding the input",
           "    out_h = output_size(height, kh, stride, padding)\n    out_w = output_size(width, kw, stride, padding)\n"
           "    # Channels last",
           "    out_h = output_size(height, kh, stride, 0)\n    out_w = output_size(width, kw, stride, 0)\n"
           "    # Channels last",
           diagnosis="padding|output size|out_h|number of windows"),
    Mutant("col2im_crop_end_without_padding",
           "crops padded[padding:height] instead of padded[padding:padding + height]",
           "return padded[:, padding:padding + height, padding:padding + width, :].transpose(0, 3, 1, 2)",
           "return padded[:, padding:height, padding:width, :].transpose(0, 3, 1, 2)",
           diagnosis="crop|padding + height|border|bottom|too small"),
    Mutant("col2im_offsets_swapped", "reads blocks[..., j, i] for kernel offset (i, j)",
           "+= blocks[:, :, :, i, j, :]", "+= blocks[:, :, :, j, i, :]",
           diagnosis="transpos|swapped|i and j|offsets|flipped|kernel"),
    Mutant("conv_weights_in_out_swapped", "draws the weights with shape (in, out, kh, kw)",
           "size=(out_channels, in_channels, kh, kw))", "size=(in_channels, out_channels, kh, kw))",
           diagnosis="swapped|in_channels|(in, out|order of the axes"),
    Mutant("conv_bias_sized_by_in_channels", "makes the bias one entry per input channel",
           "self.b = Parameter(np.zeros(out_channels, dtype=dtype))",
           "self.b = Parameter(np.zeros(in_channels, dtype=dtype))",
           diagnosis="in_channels|input channels|one per output|bias shape|out_channels"),
    Mutant("forward_im2col_stride_padding_swapped", "passes padding as the stride and stride as the padding to im2col",
           "self._cols = im2col(x, self.kernel_size, self.stride, self.padding)",
           "self._cols = im2col(x, self.kernel_size, self.padding, self.stride)",
           diagnosis="argument order|arguments|swapped|stride and padding|padding and stride"),
    Mutant("weight_grad_averaged_over_the_batch", "divides the weight gradient by the batch size",
           "grad_w = grad.T @ self._cols ", "grad_w = grad.T @ self._cols / self._x_shape[0] ",
           diagnosis="batch size|1/n|1 / n|mean|averag|divided"),
    Mutant("maxpool_default_stride_from_the_width", "takes the kernel's width as the default stride",
           "self.stride = self.kernel_size[0] if stride is None else stride",
           "self.stride = self.kernel_size[1] if stride is None else stride",
           diagnosis="default stride|kernel width|kernel height|non-square|kernel_size"),
    Mutant("maxpool_out_w_with_the_kernel_height", "computes out_w with kh",
           "out_w = (width - kw) // s + 1", "out_w = (width - kh) // s + 1",
           diagnosis="kh|kernel height|non-square|width|output size"),
    Mutant("maxpool_argmin", "marks the minimum of each window for backward",
           "windows.argmax(axis=-1)[..., np.newaxis]", "windows.argmin(axis=-1)[..., np.newaxis]",
           diagnosis="argmin|minimum|smallest|maximum"),
    Mutant("maxpool_backward_offsets_transposed", "reshapes the routed gradient to (kw, kh)",
           "reshape(*grad_out.shape, kh, kw)", "reshape(*grad_out.shape, kw, kh)",
           diagnosis="transpos|swapped|kw, kh|i and j|offsets|mirror"),
]
