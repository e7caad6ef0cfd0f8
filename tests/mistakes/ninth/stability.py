"""Ninth fresh bank for stability, written blind on 2026-12-07 in round nine AFTER round nine's diagnosis changes
were merged (commit eeff076); see tests/mistakes/README.md."""

from grader.maintainer.mutation import Mutant

MUTANTS = [
    Mutant("stable_softmax_scales_instead_of_shifting", "divides by the largest |z| instead of subtracting the maximum",
           "shifted = z - np.max(z, axis=-1, keepdims=True)\n    e = np.exp(shifted)",
           "shifted = z / np.max(np.abs(z), axis=-1, keepdims=True)\n    e = np.exp(shifted)",
           diagnosis="divid|scal|subtract|shift|invariant"),
    Mutant("stable_log_softmax_adds_the_max_back", "adds the maximum back, as in logsumexp",
           "return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))",
           "return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True)) + np.max(z, axis=-1, keepdims=True)",
           diagnosis="the maximum|added back|offset|constant|logsumexp"),
    Mutant("naive_cross_entropy_uses_stable_softmax", "calls stable_softmax in the naive version",
           "probabilities = naive_softmax(logits)", "probabilities = stable_softmax(logits)",
           diagnosis="naive|stable_softmax|overflow|should fail|not naive"),
    Mutant("stable_cross_entropy_one_hot_summed_over_batch", "sums the one-hot product over the batch axis and averages over classes",
           "return -np.mean(log_probabilities[np.arange(logits.shape[0]), labels])",
           "return -np.mean(np.sum(log_probabilities * np.eye(logits.shape[1])[labels], axis=0))",
           diagnosis="axis|classes|over the batch|1/c|averag"),
    Mutant("naive_sigmoid_complement", "writes exp(-x) / (1 + exp(-x)), which is 1 - sigmoid(x)",
           "return 1.0 / (1.0 + np.exp(-x))", "return np.exp(-x) / (1.0 + np.exp(-x))",
           diagnosis="1 - sigmoid|complement|mirror|sigmoid(-x)|opposite"),
    Mutant("naive_bce_uses_stable_sigmoid", "calls stable_sigmoid in the naive binary cross-entropy",
           "p = naive_sigmoid(logits)", "p = stable_sigmoid(logits)",
           diagnosis="naive|stable_sigmoid|overflow|should fail|not naive"),
    Mutant("stable_bce_np_max", "writes np.max(logits, 0) (a reduction) for np.maximum(logits, 0)",
           "return np.mean(np.maximum(logits, 0) - logits * targets + softplus)",
           "return np.mean(np.max(logits, 0) - logits * targets + softplus)",
           diagnosis="np.maximum|elementwise|reduction|whole array|relu"),
    Mutant("stable_log_softmax_first_row_max", "shifts every row by the first row's maximum",
           "shifted = z - np.max(z, axis=-1, keepdims=True)\n    return shifted",
           "shifted = z - np.max(z, axis=-1, keepdims=True)[0]\n    return shifted",
           diagnosis="first row|each row|overflow|per row|row's maximum"),
]
