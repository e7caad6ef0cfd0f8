"""The machinery every exercise relies on, part two: recognising the common mistakes from the numbers (a
factor of the batch size, a sign, a transpose, an axis, a known-wrong alternative, rounding), with values
printed with enough digits to differ. The general fingerprints are in test_diagnose.py."""

from __future__ import annotations

import numpy as np
import pytest

from grader.feedback import checks, diagnose


# --- diagnoses -----------------------------------------------------------------------------------

@pytest.fixture
def expected():
    return np.random.default_rng(0).standard_normal((4, 4))


@pytest.mark.parametrize("make_wrong, phrase", [
    (lambda e: e / 4, "that is 1/4, one over the batch size"),
    (lambda e: e * 4, "that is 4, the batch size"),
    (lambda e: -e, "opposite sign"),
    (lambda e: 2 * e, "twice"),
    (lambda e: 0.5 * e, "that is 1/2"),
    (lambda e: 3.7 * e, "times 3.7"),
    (lambda e: e.T, "transpose"),
    (lambda e: np.zeros_like(e), "all zeros"),
    (lambda e: np.where(e > 0, np.nan, e), "NaN"),
    (lambda e: e[:, 0], "lacks axis"),
    (lambda e: e.reshape(2, 8), "another layout"),
])
def test_the_fingerprint_of_each_common_mistake_is_recognised(expected, make_wrong, phrase):
    result = diagnose.compare(make_wrong(expected), expected, batch_size=4)
    assert not result.ok
    assert phrase in diagnose.describe("dL/dW", result)


def test_a_known_wrong_alternative_and_an_error_region_are_named(expected):
    wrong = expected.copy()
    wrong[expected < 0] = 0.0
    with_alternative = diagnose.compare(wrong, expected, alternatives=[(wrong, "the clipped value.")])
    assert with_alternative.diagnosis == "It equals the clipped value."
    in_region = diagnose.compare(wrong, expected, regions=[(expected < 0, "x < 0", "check the mask.")])
    assert "only where x < 0: check the mask." in in_region.diagnosis


def test_a_correct_value_passes_and_check_close_raises_with_the_description(expected):
    assert diagnose.compare(expected + 1e-12, expected).ok
    with pytest.raises(AssertionError, match=r"dL/db is wrong \(relative error"):
        checks.check_close("dL/db", expected * 1.5, expected)


def test_relative_error_is_zero_for_two_zeros_and_two_for_opposite_values():
    assert diagnose.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert diagnose.relative_error(np.ones(3), -np.ones(3)) == pytest.approx(2.0)


def test_a_single_wrong_entry_is_blamed_on_an_index_only_when_its_error_is_large(expected):
    shifted = expected.copy()
    shifted[1, 2] = expected[1, 3]  # a value read from the neighbouring index
    assert "off-by-one" in diagnose.compare(shifted, expected).diagnosis
    approximate = expected.copy()
    approximate[1, 2] += 3e-5  # an approximation's error (a forward difference's O(eps)) in one entry
    result = diagnose.compare(approximate, expected)
    assert not result.ok and "off-by-one" not in (result.diagnosis or "")
    one_number = diagnose.compare(np.array([1.5]), np.array([1.0]))
    assert "Only one entry" not in (one_number.diagnosis or "")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_difference_at_the_level_of_rounding_is_called_rounding_not_a_mistake(dtype):
    # z - logsumexp(z) for logits near 1e4: a legitimate cancellation, 17 eps of the magnitudes involved.
    eps = float(np.finfo(dtype).eps)
    expected = np.array([[-2e4, -1e4, -1.4e-11, -5e3]]).astype(dtype)
    got = expected.copy()
    got[0, 2] += dtype(17 * eps * 1e4)
    result = diagnose.compare(got, expected, rtol=1e-12, atol=4 * eps)
    text = diagnose.describe("log_softmax", result)
    assert not result.ok and "rounding" in text and "cancellation" in text
    assert "off-by-one" not in text and "constant factor" not in text and "times 1" not in text


def test_printed_values_have_enough_digits_to_differ():
    result = diagnose.compare(np.array([2.0611537e-09, 1.0]), np.array([2.0611536e-09, 1.0]), rtol=1e-10, atol=0.0)
    line = diagnose.describe("bce", result).splitlines()[-1]
    assert "got 2.0611537e-09, expected 2.0611536e-09" in line
    assert diagnose.format_pair(0.1 + 0.2, 0.3) == ("0.30000000000000004", "0.29999999999999999")
    assert diagnose.format_pair(1.25, 1.25) == ("1.25", "1.25")
    scalar = diagnose.describe("loss", diagnose.compare(8.43271, 1.40545))
    assert "Got 8.43271, expected 1.40545." in scalar and "index ()" not in scalar


def test_relative_differences_stay_finite_where_the_reference_is_zero():
    got = np.array([0.0, 1e-12, 3.0, -1.0, np.nan, 5.0])
    want = np.array([0.0, 0.0, 0.0, 1.0, np.nan, np.inf])
    differences = diagnose.relative_difference(got, want)
    assert differences[0] == 0.0 and differences[4] == 0.0  # equal, also two zeros and two NaN
    assert differences[1] == pytest.approx(1e-12 / 5e-6)  # noise near 0, against the array's scale
    assert differences[2] == pytest.approx(1.0) and differences[3] == pytest.approx(2.0)
    assert differences[5] == np.inf
    assert diagnose.max_relative_difference(got[:4], want[:4]) == pytest.approx(2.0)
    assert diagnose.max_relative_difference(np.zeros(0), np.zeros(0)) == 0.0
    assert diagnose.max_relative_difference(2.8e-10, 1.4e-10) == pytest.approx(0.5)  # tiny, yet twice
    assert diagnose.max_relative_difference(np.array([1e-300, 2.0]), np.zeros(2)) <= 2.0


def test_an_alternative_is_named_only_when_the_value_is_nearer_to_it_than_to_the_expected_value(expected):
    forward = expected + 1e-4 * np.abs(expected)  # an approximation inside the loose tolerance
    assert diagnose.compare(forward, expected, alternatives=[(forward, "the forward difference.")]).diagnosis == \
        "It equals the forward difference."
    alternative = expected + 1.2e-4 * np.abs(expected)
    nearer_the_expected = expected + 3e-5 * np.abs(expected)  # within the loose tolerance of both
    result = diagnose.compare(nearer_the_expected, expected, alternatives=[(alternative, "the forward difference.")])
    assert not result.ok and "forward difference" not in (result.diagnosis or "")


def test_a_single_number_gets_only_the_named_factors():
    assert "that is 6, the batch size" in diagnose.compare(6 * 1.40545, 1.40545, batch_size=6).diagnosis
    assert "twice" in diagnose.compare(2.5, 1.25).diagnosis
    assert diagnose.compare(0.5, 1.39e-10).diagnosis is None  # any two numbers differ by some factor
