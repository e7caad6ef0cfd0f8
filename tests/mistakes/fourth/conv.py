"""Fourth fresh bank for conv, written after round five's diagnosis changes (see tests/mistakes/README.md)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("bias_grad_per_sample", "sums grad_out over the pixels only, keeping the batch axis",
           "        self.b.grad += grad.sum(axis=0)", "        self.b.grad += grad_out.sum(axis=(2, 3))",
           diagnosis="batch|axis 0|samples|keepdims|sum over"),
    Mutant("maxpool_size_without_plus_one", "computes the pooled height and width without the + 1",
           "        out_h = (height - kh) // s + 1\n        out_w = (width - kw) // s + 1",
           "        out_h = (height - kh) // s\n        out_w = (width - kw) // s",
           diagnosis="+ 1|off-by-one|off by one|one fewer|one index fewer|output size"),
    Mutant("flatten_batch_last", "reshapes to (-1, N) instead of (N, -1)",
           "        return x.reshape(x.shape[0], -1)", "        return x.reshape(-1, x.shape[0])",
           diagnosis="reshape|order|transpos|batch axis|layout"),
    Mutant("init_fan_of_the_outputs", "takes fan_in = out_channels * kh * kw",
           "        fan_in = in_channels * kh * kw", "        fan_in = out_channels * kh * kw",
           diagnosis="fan_in|fan_out|in_channels|out_channels"),
    Mutant("im2col_height_and_width_swapped", "moves the axes to (N, W, H, C) before taking windows",
           "xp = np.pad(x.transpose(0, 2, 3, 1),", "xp = np.pad(x.transpose(0, 3, 2, 1),",
           diagnosis="transpos|axes|height and width|swapped|order|permut"),
    Mutant("weight_grad_from_cols_first", "computes cols^T G, (kh*kw*in, out), and reshapes it to (out, kh, kw, in)",
           "        grad_w = grad.T @ self._cols", "        grad_w = self._cols.T @ grad",
           diagnosis="transpos|order|reshape|the right numbers"),
    Mutant("col2im_square_kernel_loop", "loops j over range(kh) instead of range(kw)",
           "        for j in range(kw):\n            # +=, not =: a pixel covered by several windows",
           "        for j in range(kh):\n            # +=, not =: a pixel covered by several windows",
           diagnosis="kw|kernel width|non-square|square|rectangular"),
    Mutant("im2col_pads_one_side", "pads only the top and left",
           "((0, 0), (padding, padding), (padding, padding), (0, 0))", "((0, 0), (padding, 0), (padding, 0), (0, 0))",
           diagnosis="both sides|one side|padding|bottom|right"),
]
