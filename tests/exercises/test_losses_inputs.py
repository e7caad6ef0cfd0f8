"""Exercise 3 (losses), continued: SoftmaxCrossEntropy refuses what it cannot compute, saying what is wrong
(backward before forward, labels or logits of the wrong shape, range or type)."""

import re

import numpy as np
import pytest

from grader.feedback.checks import check_raises


@pytest.mark.fact
def test_cross_entropy_backward_before_forward_says_so(ex):
    loss = ex.SoftmaxCrossEntropy()

    def explain(outcome):
        if not outcome.get("raised"):
            return ("SoftmaxCrossEntropy.backward() before any forward returned a value; it should raise an error "
                    "saying that forward must be called first.")
        return (f"SoftmaxCrossEntropy.backward() before forward raised {outcome['raised'][0]}: "
                f"{outcome.get('message', '')}. Say that forward must be called first (e.g. raise "
                "RuntimeError('... called before forward ...')).")

    check_raises("SoftmaxCrossEntropy.backward() before forward", Exception, loss.backward,
                 match="(?i)forward", message=explain)


N, C = 4, 7
GOOD_LOGITS = np.linspace(-1.0, 1.0, N * C).reshape(N, C)

# (case id, logits, labels, what is wrong, groups of words: the message must contain one word of each
#  group (the offending value or shape, as forward's docstring asks), advice)
BAD_INPUTS = [
    ("label_too_large", GOOD_LOGITS, np.array([0, 3, 9, 1]), "label 9 with 7 classes (valid: 0 to 6)",
     [["9"]], "labels index the classes, so each must be in [0, C)."),
    ("label_equal_to_c", GOOD_LOGITS, np.array([0, 7, 2, 1]), "label 7 with 7 classes (valid: 0 to 6)",
     [["7"]], "labels index the classes, so each must be in [0, C): C itself is one too many."),
    ("negative_label", GOOD_LOGITS, np.array([0, -2, 2, 1]), "the negative label -2",
     [["-2", "negative"]], "NumPy reads a negative index from the end, so label -2 silently picks class "
                           "C - 2: reject negative labels explicitly."),
    ("labels_too_long", GOOD_LOGITS, np.array([0, 1, 2, 3, 4]), "5 labels for 4 rows of logits",
     [["shape", "length", "size", "(4,)", "5"]], "there must be exactly one label per row of logits."),
    ("labels_as_a_column", GOOD_LOGITS, np.array([[0], [1], [2], [3]]), "labels of shape (4, 1)",
     [["shape", "(4, 1)", "1-d", "(n,)"]], "labels must have shape (N,); a column (N, 1) broadcasts "
                                           "against arange(N) into an (N, N) table."),
    ("float_labels", GOOD_LOGITS, np.array([0.0, 1.0, 2.0, 3.0]), "float labels [0., 1., 2., 3.]",
     [["int", "float", "dtype", "type"]], "labels must be integers: a float label like 2.5 names no class."),
    ("logits_1d", GOOD_LOGITS[0], np.array([1]), "1-D logits of shape (7,)",
     [["2-d", "2d", "ndim", "dimension", "(n, c)", "shape"]], "logits must be (N, C), one row per sample."),
    ("logits_3d", GOOD_LOGITS.reshape(2, 2, C), np.array([1, 2]), "3-D logits of shape (2, 2, 7)",
     [["2-d", "2d", "ndim", "dimension", "(n, c)", "shape"]], "logits must be (N, C), one row per sample."),
]


def mentions_each_group(word_groups):
    """A regular expression that finds one word of each group, in any order and any case."""
    return "(?is)" + "".join("(?=.*(?:" + "|".join(re.escape(word) for word in group) + "))"
                             for group in word_groups)


@pytest.mark.fact
@pytest.mark.parametrize("case", BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_cross_entropy_rejects_bad_inputs_with_a_value_error_saying_what_is_wrong(ex, case):
    _, logits, labels, problem, word_groups, advice = case
    loss = ex.SoftmaxCrossEntropy()

    def explain(outcome):
        raised, text = outcome.get("raised"), str(outcome.get("message", ""))
        if not raised:
            return (f"SoftmaxCrossEntropy.forward with {problem} returned a value instead of raising a ValueError "
                    f"that says what is wrong. {advice}")
        if "ValueError" not in raised:
            return (f"SoftmaxCrossEntropy.forward with {problem} raised {raised[0]} ({text}) instead of a "
                    f"ValueError that says what is wrong: validate the inputs before using them. {advice}")
        missing = [group for group in word_groups if not any(word in text.lower() for word in group)]
        return (f"SoftmaxCrossEntropy.forward with {problem} raised ValueError({text!r}), which does not say "
                f"what is wrong: mention {' and '.join(' or '.join(repr(w) for w in g) for g in missing)}. The "
                "docstring asks the message to name the offending value or shape.")

    check_raises(f"SoftmaxCrossEntropy.forward with {problem}", ValueError,
                 lambda: loss.forward(logits.copy(), labels.copy()),
                 match=mentions_each_group(word_groups), message=explain)
