"""Known-wrong variants of solutions/regularization.py (spoilers: each quotes a line of the reference)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("keeps_with_probability_p", "keeps an entry with probability p instead of 1 - p",
           "keep = self.rng.random(x.shape) >= self.p", "keep = self.rng.random(x.shape) < self.p",
           diagnosis="probability of DROPPING"),
    Mutant("survivors_not_scaled", "forgets the 1 / (1 - p) scale (non-inverted dropout)",
           "self._mask = (keep / (1.0 - self.p)).astype(x.dtype)",
           "self._mask = keep.astype(x.dtype)",
           diagnosis="not scaled"),
    Mutant("survivors_divided_by_p", "divides the survivors by p instead of 1 - p",
           "self._mask = (keep / (1.0 - self.p)).astype(x.dtype)",
           "self._mask = (keep / self.p).astype(x.dtype)",
           diagnosis="x / p"),
    Mutant("drops_in_eval_mode", "ignores the training flag, so eval mode drops too",
           "if not self.training:", "if False:",
           diagnosis="dropped entries after eval()"),
    Mutant("backward_draws_a_new_mask", "draws a fresh mask in backward",
           "return grad_out * self._mask",
           "return grad_out * (self.rng.random(grad_out.shape) >= self.p) / (1.0 - self.p)",
           diagnosis="same mask"),
    Mutant("backward_mask_unscaled", "multiplies the gradient by the 0/1 mask, without the 1 / (1 - p)",
           "return grad_out * self._mask", "return grad_out * (self._mask != 0)",
           diagnosis="0/1 mask"),
    Mutant("allows_p_equal_one", "accepts p = 1 (division by zero)",
           "if not 0.0 <= p < 1.0:", "if not 0.0 <= p <= 1.0:",
           diagnosis="p = 1"),
    Mutant("ignores_the_rng", "draws masks from a fresh Generator instead of the one given",
           "keep = self.rng.random(x.shape) >= self.p", "keep = np.random.default_rng().random(x.shape) >= self.p",
           diagnosis="rng"),
    Mutant("mask_in_float64", "builds the mask in float64, silently upcasting float32 activations",
           "self._mask = (keep / (1.0 - self.p)).astype(x.dtype)",
           "self._mask = keep / (1.0 - self.p)",
           diagnosis="float32"),
    Mutant("penalty_without_half", "writes the penalty as lam * ||W||^2 (gradient then 2 lam W)",
           "return 0.5 * lam * total", "return lam * total",
           diagnosis="without the 1/2"),
    Mutant("penalty_gradient_assigned", "assigns lam * W to p.grad, losing the data loss's gradient",
           "p.grad += lam * p.data", "p.grad[...] = lam * p.data",
           diagnosis="add the penalty's gradient"),
    Mutant("penalty_gradient_twice", "uses 2 lam W as the gradient of (lam / 2) ||W||^2",
           "p.grad += lam * p.data", "p.grad += 2 * lam * p.data",
           diagnosis="twice the expected value"),
]

# Correct implementations that draw or store the mask differently from the reference: every test must pass
# them (the tests judge dropout by statistics and by the learner's own mask, never by the reference's draw).
LEGITIMATE = [
    Mutant("mask_from_binomial", "draws the keep mask with rng.binomial(1, 1 - p)",
           "keep = self.rng.random(x.shape) >= self.p", "keep = self.rng.binomial(1, 1.0 - self.p, size=x.shape)",
           diagnosis=""),
    Mutant("mask_kept_below_one_minus_p", "keeps where rng.random() < 1 - p",
           "keep = self.rng.random(x.shape) >= self.p", "keep = self.rng.random(x.shape) < 1.0 - self.p",
           diagnosis=""),
    Mutant("mask_scaled_in_its_dtype", "converts the 0/1 mask to x's dtype first, then divides by 1 - p",
           "        self._mask = (keep / (1.0 - self.p)).astype(x.dtype)\n        return x * self._mask",
           "        self._mask = keep.astype(x.dtype) / x.dtype.type(1.0 - self.p)\n        return x * self._mask",
           diagnosis=""),
]

# Round seven: eval mode that still draws from the generator, and a Dropout made without rng.
MUTANTS += [
    Mutant("dropout_draws_in_eval_mode", "draws the random numbers before checking the mode",
           "        if not self.training:\n            self._mask = None\n            return x\n"
           "        keep = self.rng.random(x.shape) >= self.p\n",
           "        keep = self.rng.random(x.shape) >= self.p\n"
           "        if not self.training:\n            self._mask = None\n            return x\n",
           diagnosis="consumes it"),
    Mutant("dropout_without_a_default_generator", "stores rng as given, so a Dropout made without rng has None",
           "self.rng = np.random.default_rng() if rng is None else rng", "self.rng = rng",
           diagnosis="when rng is None, make a fresh generator"),
]
MUTANTS += [
    Mutant("dropout_eval_keeps_the_old_mask", "leaves the last training mask in place in eval mode, so backward uses it",
           "        if not self.training:\n            self._mask = None\n            return x",
           "        if not self.training:\n            return x", diagnosis="forget the stale mask"),
]
MUTANTS += [
    Mutant("dropout_default_generator_seeded", "uses np.random.default_rng(0) when no rng is given",
           "self.rng = np.random.default_rng() if rng is None else rng",
           "self.rng = np.random.default_rng(0) if rng is None else rng", diagnosis="a fresh generator has no fixed seed"),
]
