"""The general fingerprints of grader/feedback/diagnose.py (issue 19): each fires when the numbers show
its pattern, names it, and stays silent on a difference near machine precision."""

import numpy as np
import pytest

from grader.feedback import diagnose

E = np.random.default_rng(0).standard_normal((4, 6))
P = np.random.default_rng(1).random((4, 6))


def only_rows(e):
    wrong = e.copy()
    wrong[3] += 1.0
    return wrong


def zeros_where_positive(e):
    return np.where(e > 0.5, 0.0, e)


@pytest.mark.parametrize("make_wrong, expected, phrase", [
    (lambda e: e / 6, E, "that is 1/6"),
    (lambda e: e * 0.7, E, "1 - p"),
    (lambda e: e * np.sqrt(2), E, "sqrt(2)"),
    (lambda p: 1 - p, P, "1 minus the expected value"),
    (lambda e: e - e.max(axis=1, keepdims=True), E, "same all along axis 1"),
    (lambda e: np.broadcast_to(e.mean(axis=0), e.shape), E, "same all along axis 0"),
    (lambda e: e.T.copy(), E, "yours = expected.transpose(1, 0)"),
    (lambda e: np.ascontiguousarray(e.T).reshape(4, 6), E, "right numbers in the wrong order"),
    (zeros_where_positive, E, "wrong only where yours is 0"),
    (only_rows, E, "only the last 1 of 4 rows"),
    (lambda e: e.astype(np.float32).astype(np.float64), E, "exactly a float32 number"),
    (lambda p: p / p.max(axis=1, keepdims=True), P, "a factor that is the same all along axis 1"),
    (lambda e: 2 + e / e.std(axis=0), E, "a factor plus an offset that is the same all along axis 0"),
    (lambda p: p * p.sum(axis=1, keepdims=True) / p.sum(axis=0), P, "a factor that does not depend on axis 0 times one that does not depend on axis 1"),
    (lambda e: e[:, ::-1].copy(), E, "exactly the expected numbers, each row its own, in another order"),
    (lambda e: e + np.arange(4.0)[:, None] + np.arange(1.0, 7.0), E, "a term that does not depend on axis 0 plus one that does not depend on axis 1"),
    (lambda e: e * (1 + 3e-5 * np.random.default_rng(2).standard_normal(e.shape)), E, "approximation"),
])
def test_each_general_fingerprint_is_named(make_wrong, expected, phrase):
    result = diagnose.compare(make_wrong(expected), expected, rtol=1e-9, atol=0.0, factors={"1 - p": 0.7})
    assert not result.ok and phrase in (result.diagnosis or ""), result.diagnosis


def test_axes_permuted_in_three_dimensions_are_named():
    x = np.random.default_rng(3).standard_normal((2, 3, 4))
    assert "transpose(0, 2, 1)" in diagnose.compare(x.transpose(0, 2, 1), x).diagnosis


def test_a_value_equal_to_one_compared_earlier_in_the_test_is_named():
    first, second = E, np.random.default_rng(5).standard_normal(E.shape)
    diagnose.compare(first, first, what="W after step 1")
    result = diagnose.compare(first, second, what="W after step 2")
    assert "your value of 'W after step 1'" in result.diagnosis


def test_alternatives_the_numbers_cannot_tell_apart_are_all_said_and_none_claimed():
    wrong = 2 * E
    result = diagnose.compare(wrong, E, alternatives=[(wrong, "plain momentum."), (wrong, "the late velocity.")])
    assert "cannot tell apart" in result.diagnosis and "It equals plain momentum" not in result.diagnosis
    assert "plain momentum" in result.diagnosis and "the late velocity" in result.diagnosis


def test_noise_that_leans_towards_an_alternative_does_not_name_it():
    alternative = E * (1 + 1e-6)
    noisy = E + 1e-4 * np.random.default_rng(4).standard_normal(E.shape) * np.abs(E)
    result = diagnose.compare(noisy, E, alternatives=[(alternative, "the backward difference.")])
    assert not result.ok and "backward difference" not in (result.diagnosis or "")


def test_inf_everywhere_is_not_claimed_to_be_only_an_overflow():
    result = diagnose.compare(np.full(3, np.inf), np.ones(3))
    assert "wrong formula" in result.diagnosis and "something overflowed" not in result.diagnosis


def test_rounding_level_differences_name_no_mistake():
    result = diagnose.compare(E * (1 + 4e-16), E, rtol=0.0, atol=0.0)
    assert "rounding" in result.diagnosis and "factor" not in result.diagnosis


def test_numpy_errors_raised_in_learner_code_are_explained_from_their_shapes():
    def error_of(call):
        try:
            call()
        except Exception as error:  # noqa: BLE001
            return diagnose.explain_error(str(error))
        raise AssertionError("no error")

    assert "transposed" in error_of(lambda: np.ones((5, 3)) + np.ones((3, 5)))
    assert "keepdims" in error_of(lambda: np.ones((3, 4)) + np.ones(3))
    assert "expand_dims" in error_of(lambda: np.broadcast_to(np.ones(4), (4, 3)))
    assert "transpose" in error_of(lambda: np.ones((5, 3)) @ np.ones((5, 2)))
    assert "stride" in error_of(lambda: np.ones(60).reshape(2, 3, 4, 5))
    assert "wrong order" in diagnose.explain_error("Linear expects input of shape (N, 4), got (6, 5)")
    assert "cleared" in diagnose.explain_error("IndexError: list index out of range")
    assert "did forward save" in diagnose.explain_error("'NoneType' object has no attribute 'T'")
    assert "stale" in error_of(lambda: np.ones((7, 4))[np.arange(7), np.zeros(3, dtype=int)])
    assert "one index fewer along axis 0: an off-by-one" in diagnose.compare(np.ones(5), np.ones(6)).diagnosis
    assert "only along axis 3 (3 and 4)" in error_of(lambda: np.ones((2, 2, 3, 3)) * np.ones((2, 2, 3, 4)))
    assert "fewer axes" in error_of(lambda: np.ones((2, 3)).sum(axis=2))
    assert "sum them away (the batch?) to get (4,)" in error_of(lambda: np.add(np.ones((2, 4)), 1, out=np.zeros(4)))
    assert "use //" in error_of(lambda: np.zeros(3)[list(range(5 / 2))])
    assert "np.where" in error_of(lambda: max(np.ones(3), 0))
    assert "float dtype" in error_of(lambda: np.add(np.zeros(3, dtype=int), 0.5, out=np.zeros(3, dtype=int)))
    assert "count that is 0" in error_of(lambda: 1 / len([]))
    assert diagnose.explain_error("something else entirely") is None


def test_a_few_repeated_values_in_another_order_are_no_permutation():
    mask = np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]])
    assert "another order" not in (diagnose.compare(mask[::-1].copy(), mask).diagnosis or "")


def test_a_failing_check_is_not_called_stale_against_its_own_value():
    from grader.feedback import checks

    with pytest.raises(AssertionError) as failure:
        checks.check_close("W after one step", E + np.random.default_rng(6).standard_normal(E.shape), E,
                           alternatives=lambda: [(2 * E, "twice.")])
    assert "checked before" not in str(failure.value), str(failure.value)


def test_a_factor_of_an_earlier_expected_value_missing_is_named():
    s = 1 / (1 + np.exp(-E))
    g = np.random.default_rng(7).standard_normal(E.shape)
    diagnose.compare(s, s, what="sigmoid: the forward value")
    result = diagnose.compare(g * s, g * s * (1 - s), what="sigmoid: dL/da")
    assert "divided by (1 - y), with y the expected value of 'sigmoid: the forward value'" in result.diagnosis


def _first(e, k=5):
    wrong = e.copy()
    wrong.ravel()[k:] = 0.0
    return wrong


@pytest.mark.parametrize("make_wrong, expected, phrase", [
    (lambda e: np.clip(e, None, 0.5), E, "yours is 0.5 wherever the expected value exceeds it"),
    (lambda p: np.where(E < 0, 1 - p, p), P, "only some entries are wrong (13 of 24), and there yours equals 1 minus"),
    (lambda e: np.where(E < 0, -e, e), E, "there yours has the opposite sign"),
    (lambda e: np.where(P > 0.7, e - 0.8, e), E, "off by the same amount -0.8"),
    (lambda e: np.where(P > 0.7, 3 * e, e), E, "yours is 3 times the expected value"),
    (_first, E, "only the first 5 of its 24 entries"),
    (lambda e: np.roll(e, 1, axis=0), E, "yours[i] = expected[i - 1], one step late"),
    (lambda e: np.r_[e[1:], e[-1:]], E, "yours[i] = expected[i + 1], one step early"),
])
def test_only_some_entries_wrong_says_what_yours_holds_there(make_wrong, expected, phrase):
    result = diagnose.compare(make_wrong(expected), expected, rtol=1e-9, atol=0.0)
    assert not result.ok and phrase in (result.diagnosis or "").lower(), result.diagnosis


def test_some_entries_off_by_rounding_only_name_no_partial_pattern():
    result = diagnose.compare(np.where(E < 0, E * (1 + 1e-15), E), E, rtol=0.0, atol=0.0)
    assert "only some entries" not in (result.diagnosis or "").lower()


def test_the_judge_names_a_dtype_other_than_the_references_even_when_the_values_agree():
    from grader.core.wire import Observation, encode_value
    from grader.feedback import checks

    mine = E.astype(np.float32)
    checks.begin(checks.JUDGE, [Observation("y", "close", encode_value(E))])
    with pytest.raises(AssertionError) as failure:
        checks.check_close("y", mine, mine)
    checks.begin(checks.LOCAL)
    assert "right values, but its dtype is float64, where the reference's is float32" in str(failure.value)


def test_an_alternative_is_matched_at_the_scale_of_the_numbers_not_of_atol():
    result = diagnose.compare(E * 1e-12, E, alternatives=[(np.zeros_like(E), "zeros: f never saw the step.")])
    assert "zeros" not in result.diagnosis and "1e-12" in result.diagnosis, result.diagnosis


def test_a_factor_of_an_input_the_call_was_given_missing_is_named():
    g = np.random.default_rng(6).standard_normal(E.shape)
    given = {"grad_out (the upstream gradient)": g}
    assert "divided by y, with y the input grad_out" in diagnose.compare(E, E * g, given=given).diagnosis
    noise = E * g + 0.3 * np.random.default_rng(7).standard_normal(E.shape)  # no pattern: nothing about grad_out
    assert "grad_out" not in (diagnose.compare(noise, E * g, given=given).diagnosis or "")


def test_entries_wrong_where_an_input_is_negative_are_named_only_when_most_of_them_are():
    x = np.random.default_rng(8).standard_normal(E.shape)
    wrong = np.where(x < 0, E + 1, E)
    assert "the input x is negative" in diagnose.compare(wrong, E, given={"x": x}).diagnosis
    one = E.copy()
    one[0, 0] += 1  # a single wrong entry lies where x has some sign by chance
    assert "negative" not in (diagnose.compare(one, E, given={"x": x}).diagnosis or "")


def test_a_later_value_of_yours_that_is_the_expected_value_here_is_named_swapped():
    result = diagnose.compare(0.427, 8.0125, later=[("the accuracy", 8.0125)])
    assert "'the accuracy', checked after this one, is the expected value here" in result.diagnosis
    assert diagnose.compare(0.427, 8.0125, later=[("the accuracy", 8.0125 * (1 + 1e-7))]).diagnosis is None
    assert "flag" not in (diagnose.compare(0.3, 1.0, later=[("a flag", 1.0)]).diagnosis or "")  # 0, 1: too common


def test_all_zeros_is_said_beside_an_alternative_it_matches():
    result = diagnose.compare(np.zeros_like(E), E, alternatives=[(np.zeros_like(E), "the late velocity.")])
    assert "all zeros" in result.diagnosis and "the late velocity" in result.diagnosis


@pytest.mark.parametrize("message, phrase", [
    ("could not broadcast input array from shape (20,3,4,4) into shape (3,20,4,4)", "axes permuted"),
    ("operands could not be broadcast together with shapes (3,4) (5,)", "another parameter's"),
    ("shape mismatch: indexing arrays could not be broadcast together with shapes (8,) (5,)", "pair up"),
    ("operands could not be broadcast together with shapes (6,3) (3,5)", "element-wise * where a matrix product"),
    ("cannot select an axis to squeeze out which has size not equal to one", "the axis argument ignored"),
    ("high - low range exceeds valid bounds", "a difference where a sum belongs"),
    ("labels must have shape (N,) = (4,) to match logits of shape (6, 4), got shape (6,)", "the two were swapped"),
])
def test_a_shape_error_is_explained_by_its_shapes(message, phrase):
    assert phrase in diagnose.explain_error(message)


def test_a_shape_error_that_only_looks_like_a_product_is_not_called_element_wise():
    text = diagnose.explain_error("operands could not be broadcast together with shapes (5,3) (3,3) (5,3)")
    assert "element-wise" not in text and "only along axis 0" in text


def test_a_missing_length_1_axis_and_a_missing_last_entry_are_named():
    assert "np.squeeze without axis=" in diagnose.compare(np.ones((3, 5)), np.ones((3, 1, 5))).diagnosis
    flat = E.ravel()
    assert "only the last entry, a range off by one" in diagnose.compare(np.r_[flat[:-1], 0.0], flat).diagnosis


def test_a_term_in_an_input_the_call_was_given_is_named_and_collinear_inputs_are_left_out():
    rng = np.random.default_rng(9)
    g, block = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    given = {"grad_out": g, "twice the expected value": 2 * (g + block)}
    text = diagnose.compare(1 + block, g + block, given=given).diagnosis  # a 1 where the identity path needs grad_out
    assert text.startswith("It equals the expected value - 1 times grad_out + 1") and "twice the expected" not in text


def test_a_square_root_is_named_in_an_array_but_not_in_one_number():
    assert "that is sqrt(1e-3)" in diagnose.compare(E * np.sqrt(1e-3), E).diagnosis
    assert "^2" not in (diagnose.compare(4 / 9, 1.0).diagnosis or "")  # a ratio of counts, (2/3)^2 by chance
