"""Second fresh bank for performance, written after the diagnosis changes."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("summary_of_every_step", "averages every step, not the middle half",
           "middle = order[quarter:len(order) - quarter] if len(order) >= 4 else order", "middle = order",
           diagnosis="middle|quarter|fastest|slowest"),
    Mutant("mlp_without_relu", "forgets the ReLU",
           "                np.maximum(out, 0.0, out=out)  # ReLU in place", "                pass  # ReLU forgotten",
           diagnosis="relu|mask|negative"),
    Mutant("mlp_lr_twice", "multiplies the velocity by lr again",
           "                u += grad\n                p -= u\n", "                u += grad\n                p -= self.lr * u\n",
           diagnosis="lr|learning rate"),
    Mutant("mlp_bias_gradient_mean", "averages the bias gradient",
           "np.matmul(self.ones[:n], g, out=self.grads[2 * k + 1])", "np.matmul(self.ones[:n] / n, g, out=self.grads[2 * k + 1])",
           diagnosis="batch size|1/n|count"),
    Mutant("mlp_first_gradient_rows_packed", "writes the used rows' gradient at the top",
           "grad_W[used] = x_used.T @ g", "grad_W[:len(used)] = x_used.T @ g", diagnosis="rows|used|index|only"),
    Mutant("mlp_mask_greater_or_equal", "masks with out >= 0",
           "grad_in *= self.out[k - 1][:n] > 0", "grad_in *= self.out[k - 1][:n] >= 0", diagnosis="mask|> 0|where"),
    Mutant("cnn_velocity_not_decayed", "never multiplies the velocity by the momentum",
           "            u *= self.momentum\n            u += grad\n            p -= u", "            u += grad\n            p -= u",
           diagnosis="momentum|velocity"),
    Mutant("cnn_conv1_bias_one_pixel", "takes the first pixel's gradient as conv1's bias gradient",
           "np.sum(G1, axis=1, out=self.grads[1])", "self.grads[1][...] = G1[:, 0]", diagnosis="sum|bias|pixel"),
    Mutant("cnn_linear_bias_mean", "averages the linear bias gradient",
           "np.sum(g, axis=0, out=grads[5])", "np.mean(g, axis=0, out=grads[5])", diagnosis="batch size|1/n|count"),
    Mutant("mlp_scale_by_batch_size", "divides by batch_size, not the batch's own n",
           "g = h\n        loss = _softmax_cross_entropy_step(g, labels, self.lr / n)",
           "g = h\n        loss = _softmax_cross_entropy_step(g, labels, self.lr / len(self.ones))",
           diagnosis="last batch|len(x)|own n"),
]
