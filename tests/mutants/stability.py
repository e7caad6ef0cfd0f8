"""Known-wrong variants of solutions/stability.py (spoilers: each quotes a line of the reference)."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("stable_softmax_without_shift", "forgets to subtract the max in the stable softmax",
           "no 0 / 0).\n    shifted = z - np.max(z, axis=-1, keepdims=True)",
           "no 0 / 0).\n    shifted = z",
           diagnosis="subtract each row's max"),
    Mutant("stable_softmax_global_max", "subtracts the max of the whole batch instead of each row's",
           "no 0 / 0).\n    shifted = z - np.max(z, axis=-1, keepdims=True)",
           "no 0 / 0).\n    shifted = z - np.max(z)",
           diagnosis="each row's own max"),
    Mutant("log_softmax_as_log_of_softmax", "computes the stable log-softmax as the log of the stable softmax",
           "    shifted = z - np.max(z, axis=-1, keepdims=True)\n    return shifted - np.log(",
           "    return np.log(stable_softmax(z))\n    return shifted - np.log(",
           diagnosis="Do not take the log of softmax"),
    Mutant("log_softmax_shifts_in_place", "subtracts the max in place, changing the caller's logits",
           "    shifted = z - np.max(z, axis=-1, keepdims=True)\n    return shifted - np.log(",
           "    z -= np.max(z, axis=-1, keepdims=True)\n    shifted = z\n    return shifted - np.log(",
           diagnosis="modified its input in place"),
    Mutant("cross_entropy_sums_over_the_batch", "sums the stable cross-entropy over the batch instead of averaging",
           "return -np.mean(log_probabilities[", "return -np.sum(log_probabilities[",
           diagnosis="batch size"),
    Mutant("cross_entropy_from_probabilities", "takes the log of softmax probabilities in the stable cross-entropy",
           "log_probabilities = stable_log_softmax(logits)", "log_probabilities = np.log(stable_softmax(logits))",
           diagnosis="underflowed to 0"),
    Mutant("stable_sigmoid_textbook", "writes the stable sigmoid as 1 / (1 + exp(-x))",
           "    e = np.exp(-np.abs(x))\n    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
           "    return 1.0 / (1.0 + np.exp(-x))",
           diagnosis="overflow encountered in exp"),
    Mutant("stable_sigmoid_where_with_unsafe_branches", "puts both textbook forms in np.where, which evaluates both",
           "    e = np.exp(-np.abs(x))\n    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
           "    return np.where(x >= 0, 1.0 / (1.0 + np.exp(-x)), np.exp(x) / (1.0 + np.exp(x)))",
           diagnosis="both branches must be safe"),
    Mutant("stable_sigmoid_branches_swapped", "uses 1 / (1 + e) for negative x and e / (1 + e) for positive x",
           "np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))", "np.where(x < 0, 1.0 / (1.0 + e), e / (1.0 + e))",
           diagnosis="branches are swapped"),
    Mutant("stable_sigmoid_upcasts", "computes the stable sigmoid in float64 whatever the input",
           "    e = np.exp(-np.abs(x))\n", "    e = np.exp(-np.abs(x.astype(np.float64)))\n",
           diagnosis="keep the input's dtype"),
    Mutant("bce_log_instead_of_log1p", "writes log(1 + exp(-|z|)) instead of log1p(exp(-|z|))",
           "softplus = np.log1p(np.exp(-np.abs(logits)))", "softplus = np.log(1.0 + np.exp(-np.abs(logits)))",
           diagnosis="np.log1p"),
    Mutant("bce_targets_flipped", "uses - z (1 - t) for the linear term of the stable BCE",
           "np.maximum(logits, 0) - logits * targets + softplus",
           "np.maximum(logits, 0) - logits * (1.0 - targets) + softplus",
           diagnosis="targets 1 - t"),
    Mutant("bce_from_probabilities", "computes the stable BCE from sigmoid probabilities",
           "    softplus = np.log1p(np.exp(-np.abs(logits)))\n    return np.mean(",
           "    p = stable_sigmoid(logits)\n"
           "    return -np.mean(targets * np.log(p) + (1.0 - targets) * np.log(1.0 - p))\n"
           "    return np.mean(",
           diagnosis="Work with the logits"),
    Mutant("naive_softmax_already_stable", "writes the naive softmax with the max shift",
           "    e = np.exp(z)\n    return e / np.sum(e, axis=-1, keepdims=True)",
           "    e = np.exp(z - np.max(z, axis=-1, keepdims=True))\n    return e / np.sum(e, axis=-1, keepdims=True)",
           diagnosis="textbook formula written literally"),
    Mutant("naive_bce_already_stable", "writes the naive BCE with the softplus form",
           "    p = naive_sigmoid(logits)\n    return -np.mean(targets * np.log(p)",
           "    return stable_bce_with_logits(logits, targets)\n    p = naive_sigmoid(logits)\n"
           "    return -np.mean(targets * np.log(p)",
           diagnosis="textbook formula written literally"),
    Mutant("bce_logaddexp_difference", "writes the stable BCE as logaddexp(0, z) - z t (a cancellation for large z)",
           "    softplus = np.log1p(np.exp(-np.abs(logits)))\n"
           "    return np.mean(np.maximum(logits, 0) - logits * targets + softplus)",
           "    return np.mean(np.logaddexp(0, logits) - logits * targets)",
           diagnosis="cancellation"),
    Mutant("bce_tiny_term_added_first", "adds log1p(exp(-|z|)) to max(z, 0) before subtracting z t",
           "np.maximum(logits, 0) - logits * targets + softplus",
           "softplus + np.maximum(logits, 0) - logits * targets",
           diagnosis="cancellation"),
]

# Correct rearrangements that a learner may well write instead of the reference's: every test must pass
# them (a tolerance that fails one of them is a false failure). Each cancels large numbers legitimately:
# the result keeps an absolute accuracy of about eps times the inputs' magnitude.
LEGITIMATE = [
    Mutant("log_softmax_by_logaddexp", "log_softmax as z - logsumexp(z) with np.logaddexp.reduce",
           "    shifted = z - np.max(z, axis=-1, keepdims=True)\n    return shifted - np.log(",
           "    return z - np.logaddexp.reduce(z, axis=-1, keepdims=True)\n    return shifted - np.log(",
           diagnosis=""),
    Mutant("softmax_by_logaddexp", "softmax as exp(z - logsumexp(z))",
           "no 0 / 0).\n    shifted = z - np.max(z, axis=-1, keepdims=True)",
           "no 0 / 0).\n    return np.exp(z - np.logaddexp.reduce(z, axis=-1, keepdims=True))\n"
           "    shifted = z - np.max(z, axis=-1, keepdims=True)",
           diagnosis=""),
    Mutant("cross_entropy_by_logaddexp", "cross-entropy as the mean of logsumexp(z) - z[label]",
           "    log_probabilities = stable_log_softmax(logits)\n",
           "    picked = logits[np.arange(logits.shape[0]), labels]\n"
           "    return np.mean(np.logaddexp.reduce(logits, axis=-1) - picked)\n"
           "    log_probabilities = stable_log_softmax(logits)\n",
           diagnosis=""),
    Mutant("sigmoid_by_logaddexp", "sigmoid as exp(-logaddexp(0, -x))",
           "    e = np.exp(-np.abs(x))\n    return np.where(",
           "    return np.exp(-np.logaddexp(0, -x))\n    e = np.exp(-np.abs(x))\n    return np.where(",
           diagnosis=""),
    Mutant("bce_by_logaddexp_per_target", "BCE as t logaddexp(0, -z) + (1 - t) logaddexp(0, z)",
           "    softplus = np.log1p(np.exp(-np.abs(logits)))\n    return np.mean(",
           "    return np.mean(targets * np.logaddexp(0, -logits) + (1 - targets) * np.logaddexp(0, logits))\n"
           "    softplus = np.log1p(np.exp(-np.abs(logits)))\n    return np.mean(",
           diagnosis=""),
]
