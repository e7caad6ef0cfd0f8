"""Compare an array with its expected value and say, from the numbers alone, what the mistake probably is.

Used by every test (through `check_close`) and by `make compare`. A diagnosis never reads the learner's
source: it recognises the fingerprints of common mistakes in the numbers.

- a *known-wrong alternative* the test computed (e.g. the gradient with the mask taken from the output):
  "your value equals <explanation>";
- the opposite sign; a constant factor (the batch size N or 1/N, 2 or 1/2); a transpose; all zeros;
  NaN or inf;
- errors confined to a region the test names (e.g. "where x <= 0");
- a wrong shape, with the likely reason (transposed, a summed or missing batch axis);
- differences at the level of rounding (a few eps of the largest magnitude), which no formula mistake
  produces: then no mistake is named, only the rounding and the cancellation that usually amplifies it.

Printed values carry as many significant digits as it takes to tell them apart (`format_pair`), and
`relative_difference` gives entry-wise relative differences that stay finite where a value is 0 (the
"max rel diff" of `make compare`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-7

# Differences of at most this many eps (machine epsilon) of the largest magnitude in the array are
# rounding: a legitimate cancellation easily costs a few dozen eps, a wrong formula costs far more.
ROUNDING_EPS = 64
# A single wrong entry is blamed on an index or an edge case only when its error is at least this
# fraction of the largest magnitude: a wrong index moves a value by about its own size, an approximation
# (a forward difference, a float32 intermediate) by much less.
INDEX_ERROR_FRACTION = 1e-3


def relative_error(actual, expected) -> float:
    """||actual - expected|| / max(||actual||, ||expected||); 0 when both are zero, at most 2."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    # Divide by the largest magnitude first: norms of values near the float64 maximum would overflow.
    largest = max(np.max(np.abs(actual), initial=0.0), np.max(np.abs(expected), initial=0.0))
    if largest == 0.0:
        return 0.0
    if not np.isfinite(largest):
        return float("inf")
    actual, expected = actual / largest, expected / largest
    scale = max(np.linalg.norm(actual), np.linalg.norm(expected))
    return float(np.linalg.norm(actual - expected) / scale)


def relative_difference(actual, expected, floor=None) -> np.ndarray:
    """Entry-wise |actual - expected| / max(|actual|, |expected|, floor), as float64.

    Sane where a value is 0: the result lies in [0, 2] for finite entries (0 where both are equal, also
    both zero; 2 for opposite values), never the 1e308 of dividing by the smallest float. `floor`
    defaults to 1e-6 times the largest finite magnitude in either array, so an entry that is tiny next to
    the others (rounding noise where the reference is 0) is measured against the array's scale. An entry
    where either side is NaN or inf and the two differ gives inf. Shapes must broadcast.
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if floor is None:
        finite = np.concatenate([np.abs(actual[np.isfinite(actual)]), np.abs(expected[np.isfinite(expected)])])
        floor = 1e-6 * float(np.max(finite, initial=0.0))
    with np.errstate(all="ignore"):
        difference = np.abs(actual - expected)
        scale = np.maximum(np.maximum(np.abs(actual), np.abs(expected)), floor)
        result = difference / scale
    same = (actual == expected) | (np.isnan(actual) & np.isnan(expected))
    return np.where(same, 0.0, np.where(np.isfinite(result), result, np.inf))


def max_relative_difference(actual, expected, floor=None) -> float:
    """The largest entry of `relative_difference` (0.0 for empty arrays): the "max rel diff" of compare."""
    differences = relative_difference(actual, expected, floor)
    return float(np.max(differences)) if differences.size else 0.0


def format_pair(got: float, expected: float, digits: int = 6) -> tuple[str, str]:
    """`got` and `expected` as text, with `digits` significant digits or as many more (up to 17, which
    tell any two float64 apart) as it takes for the two texts to differ when the numbers do."""
    for places in range(digits, 18):
        texts = f"{got:.{places}g}", f"{expected:.{places}g}"
        if texts[0] != texts[1] or got == expected:
            return texts
    return texts


def _precision(*arrays) -> tuple[float, str]:
    """(eps, dtype name) of the least precise floating dtype among `arrays` (float64 if none is a float)."""
    floats = [np.asarray(a).dtype for a in arrays]
    floats = [d for d in floats if np.issubdtype(d, np.floating)] or [np.dtype(np.float64)]
    least = max(floats, key=lambda d: np.finfo(d).eps)
    return float(np.finfo(least).eps), least.name


@dataclass
class Comparison:
    ok: bool
    relative_error: float
    diagnosis: str | None
    first_index: tuple | None = None
    got_at_first: float | None = None
    expected_at_first: float | None = None
    n_wrong: int = 0
    size: int = 0
    shape_problem: str | None = None


def _close(a, b, rtol, atol) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _shape_diagnosis(got: tuple, want: tuple, batch_size: int | None) -> str:
    if len(got) == 2 and got == want[::-1]:
        return "It has the expected shape transposed: check the order of a matrix product or a missing .T."
    if len(got) == len(want) - 1 and any(want[:k] + want[k + 1:] == got for k in range(len(want))):
        axis = next(k for k in range(len(want)) if want[:k] + want[k + 1:] == got)
        return f"It lacks axis {axis} of the expected shape: did you sum or average over an axis that should stay?"
    if len(got) == len(want) + 1 and any(got[:k] + got[k + 1:] == want for k in range(len(got))):
        axis = next(k for k in range(len(got)) if got[:k] + got[k + 1:] == want)
        if batch_size is not None and got[axis] == batch_size:
            return "It still has the batch axis: did you forget to sum over the batch (axis 0)?"
        return f"It has an extra axis {axis}: did you forget to sum over it?"
    if int(np.prod(got)) == int(np.prod(want)):
        return "It has the right number of entries in another layout: check a reshape or transpose."
    return "Check which axes you multiply, sum and broadcast over."


def _scale_diagnosis(k: float, batch_size: int | None, size: int) -> str | None:
    """The named factors (the batch size, 2, 1/2), else "a constant factor" for arrays; for a single
    number every wrong value is some multiple of the right one, so an unnamed factor says nothing."""
    if batch_size and batch_size > 1:
        if np.isclose(k, 1.0 / batch_size, rtol=1e-3):
            return (f"It equals the expected value divided by {batch_size}, the batch size: did you take the "
                    "mean over the batch where a sum is needed (or divide by N twice)?")
        if np.isclose(k, batch_size, rtol=1e-3):
            return (f"It equals the expected value times {batch_size}, the batch size: did you forget to "
                    "divide by N (a sum where the mean is needed)?")
    if np.isclose(k, 2.0, rtol=1e-3):
        return ("It is exactly twice the expected value: is a contribution counted twice, or a factor 1/2 "
                "missing?")
    if np.isclose(k, 0.5, rtol=1e-3):
        return "It is exactly half the expected value: is a factor 2 missing, or one of two contributions?"
    if size < 2:
        return None
    return f"It is the expected value times {k:.4g}: a constant factor is wrong."


def compare(actual, expected, *, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL, batch_size=None,
            alternatives=(), regions=()) -> Comparison:
    """Compare and diagnose.

    alternatives: (array, explanation) pairs of known-wrong answers the caller computed; when `actual`
        matches one, the explanation is the diagnosis ("your gradient equals ..."). It must also be nearer
        to that alternative than to the expected value: an alternative within the tolerance of the expected
        value (a forward difference with a tiny step) is named only when the numbers tell them apart.
    regions: (bool mask, description, advice) triples; when every wrong entry lies inside one mask, the
        diagnosis says "only wrong where <description>: <advice>".
    """
    if actual is None:
        return Comparison(False, float("inf"), "It is None: did you forget to `return` the result?",
                          shape_problem="None")
    try:
        got = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return Comparison(False, float("inf"), f"It is a {type(actual).__name__}, not an array of numbers.",
                          shape_problem=type(actual).__name__)
    want = np.asarray(expected, dtype=np.float64)
    precision = _precision(actual, expected)
    if got.shape != want.shape:
        problem = f"It has shape {got.shape}, expected {want.shape}. " + _shape_diagnosis(
            got.shape, want.shape, batch_size)
        return Comparison(False, float("inf"), problem, shape_problem=problem, size=want.size)

    wrong = ~np.isclose(got, want, rtol=rtol, atol=atol)
    rel = relative_error(got, want) if np.all(np.isfinite(got)) else float("inf")
    result = Comparison(not wrong.any(), rel, None, n_wrong=int(wrong.sum()), size=int(want.size))
    if result.ok:
        return result
    first = tuple(int(i) for i in np.argwhere(wrong)[0])
    result.first_index = first
    result.got_at_first = float(got[first])
    result.expected_at_first = float(want[first])
    result.diagnosis = _diagnose(got, want, wrong, rtol, atol, batch_size, alternatives, regions, precision)
    return result


def _magnitude(got, want) -> float:
    """The largest magnitude in either array: the scale against which rounding is measured."""
    return float(max(np.max(np.abs(got), initial=0.0), np.max(np.abs(want), initial=0.0)))


def _rounding_diagnosis(got, want, wrong, precision) -> str | None:
    """A sentence when every wrong entry is off by rounding only (at most ROUNDING_EPS eps of the largest
    magnitude): no formula mistake looks like that, so none is named."""
    eps, dtype = precision
    scale = _magnitude(got, want)
    if scale == 0.0:
        return None
    worst = float(np.max(np.abs(got - want)[wrong])) / (eps * scale)
    if worst > ROUNDING_EPS:
        return None
    return (f"Every difference is within rounding: at most {worst:.2g} eps times the largest magnitude in the "
            f"array ({scale:.3g}), where eps = {eps:.3g} is the relative precision of {dtype}. No formula "
            "mistake looks like that; rounding is amplified when two nearly equal numbers are subtracted (a "
            "cancellation, e.g. z - logsumexp(z) for large z): compute small quantities directly, not as the "
            "difference of large ones.")


def _single_entry_diagnosis(got, want, wrong) -> str | None:
    """An off-by-one index or an edge case, when exactly one entry of several is wrong by about the size of
    the values; a tiny error in one entry is an approximation or rounding, not an index."""
    if wrong.sum() != 1 or wrong.size < 2:
        return None
    error = float(np.max(np.abs(got - want)[wrong]))
    if error < INDEX_ERROR_FRACTION * _magnitude(got, want):
        return None
    return "Only one entry is wrong: look for an off-by-one index or an edge case."


def _nearer(got, alternative, want) -> bool:
    """`got` is strictly nearer to `alternative` than to `want` (Euclidean distance over all entries)."""
    return bool(np.linalg.norm(got - alternative) < np.linalg.norm(got - want))


def _diagnose(got, want, wrong, rtol, atol, batch_size, alternatives, regions, precision) -> str | None:
    loose_rtol = max(rtol, 1e-4)
    for alternative, explanation in alternatives:
        alternative = np.asarray(alternative, dtype=np.float64)
        if _close(got, alternative, loose_rtol, atol) and _nearer(got, alternative, want):
            return f"It equals {explanation}"
    if not np.all(np.isfinite(got)):
        kinds = "NaN" if np.isnan(got).any() else "inf"
        return (f"It contains {kinds} where the expected value is finite: something overflowed "
                "(exp of a large number?) or divided by zero.")
    rounding = _rounding_diagnosis(got, want, wrong, precision)
    if rounding is not None:
        return rounding
    if not got.any() and want.any():
        return "It is all zeros: was it never computed, never returned, or overwritten with zeros?"
    if _close(got, -want, loose_rtol, atol):
        return "It has the right size but the opposite sign: a minus sign is flipped."
    denominator = float(np.sum(want * want))
    if denominator > 0:
        k = float(np.sum(got * want) / denominator)
        # k close to 1 is a small error spread over the array, not a wrong constant ("times 1").
        if k != 0 and not np.isclose(k, 1.0, rtol=loose_rtol, atol=0.0) and _close(got, k * want, loose_rtol, atol):
            return _scale_diagnosis(k, batch_size, got.size)
    if got.ndim == 2 and got.shape[0] == got.shape[1] and _close(got.T, want, loose_rtol, atol):
        return "It is the transpose of the expected value: check the order of a matrix product."
    for mask, description, advice in regions:
        mask = np.broadcast_to(np.asarray(mask, dtype=bool), got.shape)
        if wrong.any() and not (wrong & ~mask).any():
            return f"It is wrong only where {description}: {advice}"
    return _single_entry_diagnosis(got, want, wrong)


def describe(what: str, result: Comparison) -> str:
    """The failure message for a comparison, a few plain lines."""
    if result.shape_problem is not None:
        return f"{what} is wrong. {result.diagnosis}"
    lines = [f"{what} is wrong (relative error {result.relative_error:.3g})."]
    if result.diagnosis:
        lines.append(result.diagnosis)
    if result.first_index is not None:
        got, expected = format_pair(result.got_at_first, result.expected_at_first)
        if result.first_index == ():
            lines.append(f"Got {got}, expected {expected}.")
        else:
            index = result.first_index if len(result.first_index) != 1 else result.first_index[0]
            lines.append(f"First difference at index {index}: got {got}, expected {expected} "
                         f"({result.n_wrong} of {result.size} entries differ).")
    return "\n".join(lines)


def check_close(what: str, actual, expected, **options) -> None:
    """Raise AssertionError with a diagnosis unless `actual` matches `expected`; see `compare`."""
    __tracebackhide__ = True
    result = compare(actual, expected, **options)
    if not result.ok:
        raise AssertionError(describe(what, result))
