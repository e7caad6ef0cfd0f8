"""Compare an array with its expected value and say, from the numbers alone, what the mistake probably is.

Used by every test (through `check_close`) and by `make compare`; it never reads the learner's source. It
recognises: a known-wrong *alternative* the test computed (all said, none claimed, when the numbers cannot
tell them apart); the opposite sign; a factor, named when recognisable (the batch size, n or 1/n, 1/2, an axis
length, a number of the scenario: lr, 1 - p..., a power of 10, the square root or square of one); a reciprocal;
an offset, a complement or a term per row; a transpose, permuted axes, the right numbers reshaped in the wrong
order, or moved by one index; all zeros; the same all along an axis; NaN or inf; a value equal to one compared
earlier, to your later value of another, or to an input the call was given, or a factor of one missing (stale,
swapped, the upstream gradient left out); only some entries wrong, which ones (where an input is negative?) and
what yours holds there; a wrong shape; rounding (no mistake named), float32 or float16 rounding, or a small
unpatterned difference (an approximation); an error raised in the learner's code, from the shapes in its
message (`explain_error`). Printed values carry the digits it takes to tell them apart (`format_pair`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from itertools import combinations, permutations

import numpy as np

DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-7

# Differences of at most this many eps (machine epsilon) of the largest magnitude in the array are
# rounding: a legitimate cancellation easily costs a few dozen eps, a wrong formula costs far more.
ROUNDING_EPS = 64
# Only some entries are blamed on an index, an edge case or a branch when each error is at least this fraction
# of the largest magnitude: a wrong index moves a value by about its own size, an approximation by much less.
INDEX_ERROR_FRACTION = 1e-3


def relative_error(actual, expected) -> float:
    """||actual - expected|| / max(||actual||, ||expected||); 0 when both are zero, at most 2."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    # Divide by the largest magnitude first: norms of values near the float64 maximum would overflow.
    largest = max(np.max(np.abs(actual), initial=0.0), np.max(np.abs(expected), initial=0.0))
    if largest == 0.0 or not np.isfinite(largest):
        return 0.0 if largest == 0.0 else float("inf")
    actual, expected = actual / largest, expected / largest
    return float(np.linalg.norm(actual - expected) / max(np.linalg.norm(actual), np.linalg.norm(expected)))


def relative_difference(actual, expected) -> np.ndarray:
    """Entry-wise |actual - expected| / max(|actual|, |expected|, floor), as float64: in [0, 2] for finite
    entries (0 where both are equal, zero included; 2 for opposite values), inf where a NaN or inf differs.
    The floor is 1e-6 times the largest finite magnitude, so rounding noise where the reference is 0 is
    measured against the array's scale. Shapes must broadcast."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    floor = 1e-6 * float(np.max(np.concatenate([np.abs(actual[np.isfinite(actual)]),
                                                np.abs(expected[np.isfinite(expected)])]), initial=0.0))
    with np.errstate(all="ignore"):
        result = np.abs(actual - expected) / np.maximum(np.maximum(np.abs(actual), np.abs(expected)), floor)
    same = (actual == expected) | (np.isnan(actual) & np.isnan(expected))
    return np.where(same, 0.0, np.where(np.isfinite(result), result, np.inf))


def max_relative_difference(actual, expected) -> float:
    """The largest entry of `relative_difference` (0.0 for empty arrays): the "max rel diff" of compare."""
    return float(np.max(relative_difference(actual, expected), initial=0.0))


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
    least = max([d for d in (np.asarray(a).dtype for a in arrays) if np.issubdtype(d, np.floating)]
                or [np.dtype(np.float64)], key=lambda d: np.finfo(d).eps)
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
    for axis in (k for k in range(len(want)) if want[:k] + want[k + 1:] == got):
        return (f"It lacks axis {axis} of the expected shape: a reduction (sum, mean, np.max) over an axis that should "
                "stay? An element-wise maximum is np.maximum(x, 0); np.max(x, 0) reduces over axis 0.")
    for axis in (k for k in range(len(got)) if got[:k] + got[k + 1:] == want):
        if batch_size is not None and got[axis] == batch_size:
            return "It still has the batch axis: did you forget to sum over the batch (axis 0)?"
        return f"It has an extra axis {axis}: did you forget to sum over it?"
    if int(np.prod(got)) == int(np.prod(want)):
        return "It has the right number of entries in another layout: check a reshape or transpose."
    off = [(k, g - w) for k, (g, w) in enumerate(zip(got, want)) if g != w] if len(got) == len(want) else []
    if len(off) == 1 and abs(off[0][1]) == 1:
        return (f"It has one index {'fewer' if off[0][1] < 0 else 'more'} along axis {off[0][0]}: an "
                "off-by-one (a range or loop that stops one early or runs one further, an item dropped or repeated, "
                "an output size formula off by one).")
    return "Check which axes you multiply, sum and broadcast over (a reduction over another axis: the axis argument ignored?)."


def _expressions(batch_size, shape, factors) -> list[tuple[float, str]]:
    """(value, how to say it) of the numbers a factor is recognised as, most specific first: the scenario's
    numbers (lr, 1 - p...) and inverses, the batch size, small fractions, axis lengths, n or 1/n <= 64, powers of 10."""
    found = []
    for name, value in (factors or {}).items():
        if value and np.isfinite(value) and value != 1:
            found += [(float(value), f"{name} (= {value:.4g})"), (1.0 / value, f"1/{name} (= 1/{value:.4g})")]
    if batch_size and batch_size > 1:
        found += [(float(batch_size), f"{batch_size}, the batch size"), (1.0 / batch_size, f"1/{batch_size}, one over the batch size")]
    found += [(p / q, str(p) if q == 1 else f"{p}/{q}") for p, q in ((2, 1), (1, 2), (3, 1), (1, 3), (2, 3), (3, 2), (4, 1),
                                                                    (1, 4), (3, 4))]
    for axis, n in enumerate(shape):
        if n > 4:
            found += [(float(n), f"{n}, the length of axis {axis}"), (1.0 / n, f"1/{n}, 1 over the length of axis {axis}")]
    return found + [(v, t) for n in range(5, 65) for v, t in ((float(n), str(n)), (1.0 / n, f"1/{n}"))] + [
        (10.0 ** m, f"1e{m}") for m in range(-8, 9) if m]


def _scale_diagnosis(k: float, batch_size: int | None, shape: tuple, factors=None) -> str | None:
    """The factor k between the value and the expected one, named when it is recognisable; for a single
    number every wrong value is some multiple of the right one, so only an exact (1e-6) match counts."""
    rtol = 1e-3 if int(np.prod(shape)) > 1 else 1e-6
    if np.isclose(k, 2.0, rtol=rtol):
        return "It is exactly twice the expected value: is a contribution counted twice, or a factor 1/2 missing?"
    # k itself, else (not for one number: ratios of counts would match by chance) k squared or its root
    name = next((("minus " if k < 0 else "") + how.format(text) for power, how in ((1, "{}"), (2, "sqrt({})"),
                 (0.5, "({})^2"))[:1 if rtol < 1e-3 else 3] for value, text in _expressions(batch_size, shape, factors)
                 if np.isclose(abs(k) ** power, value, rtol=rtol, atol=0.0)), None)
    if name is not None:
        return (f"It equals the expected value times {k:.4g}, that is {name}: a factor too many or its inverse "
                "left out (a mean where a sum is needed or the reverse, a count divided twice, a wrong constant"
                + (", a square root in the wrong place)." if "sqrt" in name or "^2" in name else ")."))
    return None if int(np.prod(shape)) < 2 else f"It is the expected value times {k:.4g}: a constant factor is wrong."


def compare(actual, expected, *, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL, batch_size=None,
            alternatives=(), regions=(), factors=None, what=None, given=None, later=()) -> Comparison:
    """Compare and diagnose.

    alternatives: (array, explanation) pairs of known-wrong answers the caller computed, named ("It equals
        <explanation>") when `actual` matches one at the scale of its numbers and is far nearer to it than to
        the expected value. regions: (bool mask, description, advice) triples, named when every wrong entry
        lies in one mask. Either may be a callable, called only to explain a failure. factors: {name: value}
        of the scenario's numbers (lr, p...). what: the quantity's name; given, the value is remembered for
        the rest of the test, so a later value equal to it (stale, or copied) is named. given: {name: array}, the
        call's inputs (upstream gradient, x); later: (what, yours) of the checks after this one (swapped results)."""
    if actual is None:
        return Comparison(False, float("inf"), "It is None: did you forget to `return` the result?",
                          shape_problem="None")
    try:
        got = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return Comparison(False, float("inf"), f"It is a {type(actual).__name__}, not an array of numbers.",
                          shape_problem=type(actual).__name__)
    want = np.asarray(expected, dtype=np.float64)
    earlier = _remember(what, got, want)
    if got.shape != want.shape:
        problem = f"It has shape {got.shape}, expected {want.shape}. " + (
            _layout_diagnosis(got, want) or _shape_diagnosis(got.shape, want.shape, batch_size))
        return Comparison(False, float("inf"), problem, shape_problem=problem, size=want.size)
    wrong = ~np.isclose(got, want, rtol=rtol, atol=atol)
    result = Comparison(not wrong.any(), relative_error(got, want) if np.all(np.isfinite(got)) else float("inf"), None,
                        n_wrong=int(wrong.sum()), size=int(want.size))
    if result.ok:
        return result
    first = tuple(int(i) for i in np.argwhere(wrong)[0])
    result.first_index, result.got_at_first, result.expected_at_first = first, float(got[first]), float(want[first])
    alternatives, regions, given, later = (v() if callable(v) else v for v in (alternatives, regions, given or {}, later))
    given = {name: v for name, v in ((n, np.asarray(v, dtype=np.float64)) for n, v in given.items()) if v.shape == want.shape}
    scenario = dict(batch_size=batch_size, factors=factors, earlier=earlier, given=given, later=later)
    regions = list(regions) + [(mask, f"the input {name} is {text}", f"that branch or case of the formula is wrong.")
                               for name, v in given.items() for mask, text in ((v < 0, "negative"), (v > 0, "positive"))
                               if not mask.all() and (wrong & mask).sum() >= max(4, 0.75 * mask.sum())]  # no coincidence
    result.diagnosis = _diagnose(got, want, wrong, rtol, atol, alternatives, regions, _precision(actual, expected), scenario)
    return result


# The quantities compared so far in the current test (its id, then (what, yours, expected)): stale or copied values.
_SEEN: dict = {"test": None, "values": []}


def _remember(what, got, want) -> list:
    """The earlier (what, yours, expected) of this test; remembers this one when it is named."""
    if _SEEN["test"] != (test := os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]):
        _SEEN.update(test=test, values=[])
    earlier = list(_SEEN["values"])
    if what is not None and got.size <= 1 << 16 and len(earlier) < 64:
        _SEEN["values"].append((what, got, want))
    return earlier


def _layout_diagnosis(got, want) -> str | None:
    """The expected numbers in another layout: axes permuted, or reshaped where a transpose was needed."""
    if got.size != want.size or got.size < 2 or want.ndim > 5:
        return None
    tolerance = dict(rtol=1e-4, atol=1e-7 * _magnitude(got, want))
    for axes in permutations(range(want.ndim)):
        moved = want.transpose(axes)
        if axes == tuple(range(want.ndim)):
            if moved.shape != got.shape and np.allclose(got.ravel(), moved.ravel(), **tolerance):
                return ("It holds the expected numbers in the expected order, in another layout: reshape (or index) to "
                        "the expected shape." + " Every length-1 axis is gone: np.squeeze without axis= drops them all."
                        * (got.shape == tuple(n for n in want.shape if n != 1)))
        elif moved.shape == got.shape and np.allclose(got, moved, **tolerance):
            return (f"It is the expected value with its axes permuted: yours = expected.transpose{axes}. "
                    "Check the order of a matrix product, a missing .T or the axes of a transpose.")
        elif np.allclose(got.ravel(), np.ascontiguousarray(moved).ravel(), **tolerance):
            return (f"It holds the right numbers in the wrong order: those of expected.transpose{axes}, reshaped. A "
                    "reshape keeps the order of the entries; where axes must change places, transpose them first.")


def _magnitude(got, want) -> float:
    """The largest magnitude in either array: the scale against which rounding is measured."""
    return float(max(np.max(np.abs(got), initial=0.0), np.max(np.abs(want), initial=0.0)))


def _rounding_diagnosis(got, want, wrong, precision) -> str | None:
    """Every wrong entry off by rounding only (at most ROUNDING_EPS eps of the largest magnitude): none named."""
    eps, dtype = precision
    scale = _magnitude(got, want)
    worst = float(np.max(np.abs(got - want)[wrong])) / (eps * scale) if scale else np.inf
    if worst <= ROUNDING_EPS:
        return (f"Every difference is within rounding: at most {worst:.2g} eps times the largest magnitude in the array "
                f"({scale:.3g}), where eps = {eps:.3g} is the relative precision of {dtype}. No formula mistake looks "
                "like that; rounding is amplified when two nearly equal numbers are subtracted (a cancellation, e.g. z "
                "- logsumexp(z) for large z): compute small quantities directly, not as the difference of large ones.")


def _diagnose(got, want, wrong, rtol, atol, alternatives, regions, precision, scenario) -> str | None:
    loose_rtol = max(rtol, 1e-4)
    # An alternative explains the difference when yours matches it at the scale of the numbers (1e-12 times the
    # gradient is no "zeros") and is a tenth as far from it as from the expected value (noise names nothing).
    matches = list(dict.fromkeys(explanation for value, explanation in alternatives if _close(
        got, alternative := np.asarray(value, dtype=np.float64), loose_rtol, atol) and np.linalg.norm(got - alternative)
        < 0.1 * np.linalg.norm(got - want) and np.abs(got - alternative).max(initial=0) <= loose_rtol * _magnitude(
            got, alternative)))
    zeros = "It is all zeros: was it never computed, never returned, or overwritten with zeros?" * bool(
        not got.any() and want.any())
    if matches and zeros:
        return f"{zeros} It also equals " + " It also equals ".join(matches)
    if len(matches) == 1:
        return f"It equals {matches[0]}"
    if matches:  # the numbers here cannot tell these apart: say each, claim none
        return "It equals each of these, which these numbers cannot tell apart:\n" + "\n".join(
            f"- {explanation}" for explanation in matches)
    finite = np.isfinite(got)
    if not finite.all():
        kinds = "NaN" if np.isnan(got).any() else "inf"
        if (wrong & finite).any():  # the finite entries are wrong too: a formula, not only an overflow
            rest = _diagnose(np.where(finite, got, want), want, wrong & finite, rtol, atol, (), regions, precision,
                             scenario)
            return (f"It contains {kinds} in {int((~finite).sum())} entries, and its finite entries are wrong too"
                    + (f". {rest}" if rest else ": the formula differs, not only by an overflow."))
        if not finite.any():
            return (f"It is {kinds} in every entry, where the expected value is finite: some value grew without bound, "
                    "from a wrong formula (a wrong factor applied again and again) as often as from exp of a large "
                    "number or a division by zero.")
        return (f"It contains {kinds} where the expected value is finite (and is right elsewhere): something "
                "overflowed (exp of a large number?) or divided by zero.")
    if text := _rounding_diagnosis(got, want, wrong, precision) or zeros:
        return text
    if _close(got, -want, loose_rtol, atol):
        return "It has the right size but the opposite sign: a minus sign is flipped."
    k = float(np.sum(got * want) / denominator) if (denominator := float(np.sum(want * want))) > 0 else 0.0
    # k close to 1 is a small error spread over the array, not a wrong constant ("times 1").
    if k != 0 and not np.isclose(k, 1.0, rtol=loose_rtol, atol=0.0) and _close(got, k * want, loose_rtol, atol):
        return _scale_diagnosis(k, scenario["batch_size"], got.shape, scenario["factors"]) or _equals_earlier(
            got, want, scenario)
    with np.errstate(all="ignore"):
        c = got * want
    if got.size > 1 and np.ptp(want) > 0 and np.all(c != 0) and np.allclose(c, c.flat[0], rtol=1e-6, atol=0):
        return (f"It equals {c.flat[0]:.4g} divided by the expected value: a quotient upside down (the two operands of a "
                "division swapped, or an inverse taken where none belongs).")
    zeros = [] if wrong.all() else [  # only some entries wrong, all where yours or the expected value is 0
        (got == 0, "yours is 0 and the expected value is not", "a contribution is missing there, or a mask drops "
         "entries it should keep."), (want == 0, "the expected value is exactly 0", "a mask (or zero-fill) is missing.")]
    rows = _rows_diagnosis(got, want, wrong)
    for diagnosis in (_layout_diagnosis(got, want) if got.ndim > 1 else None, _offset_diagnosis(got, want, scenario["given"]),
                      _equals_earlier(got, want, scenario),
                      _region_diagnosis(got, wrong, regions), _constant_axis_diagnosis(got, want),
                      _shifted_diagnosis(got, want), _partial_diagnosis(got, want, wrong, rows),
                      _region_diagnosis(got, wrong, zeros), _reordered_diagnosis(got, want),
                      _dtype_diagnosis(got, want, wrong), rows, _slice_scale_diagnosis(got, want)):
        if diagnosis:
            return diagnosis
    return _small_error_diagnosis(got, want)


def _shifted_diagnosis(got, want) -> str | None:
    """Yours is the expected value moved one index along an axis (yours[i] = expected[i - 1] or [i + 1])."""
    tolerance = dict(rtol=1e-6, atol=1e-9 * _magnitude(got, want))
    for axis in (k for k in range(got.ndim) if got.shape[k] > 2):
        g, w = np.moveaxis(got, axis, 0), np.moveaxis(want, axis, 0)
        for sign, late, a, b in (("-", "late", g[1:], w[:-1]), ("+", "early", g[:-1], w[1:])):
            if np.allclose(a, b, **tolerance) and not np.allclose(w[1:], w[:-1], **tolerance):
                return (f"It equals the expected value moved by one index along axis {axis}: yours[i] = expected[i "
                        f"{sign} 1], one step {late}: an off-by-one (a range or index shifted by one, a value recorded "
                        f"before or after its update, a decay one epoch {late}, another step's value).")


def _partial_diagnosis(got, want, wrong, rows) -> str | None:
    """Only some entries wrong, each by far more than rounding, and what yours holds there: zeros after the first
    ones, a cap, the opposite sign, the complement c - expected, an offset or a factor; `rows` says which rows."""
    scale = _magnitude(got, want)
    if wrong.all() or got.size < 3 or np.abs(got - want)[wrong].min() < INDEX_ERROR_FRACTION * scale:
        return None
    g, w, n, tight, first = got[wrong], want[wrong], int(wrong.sum()), 1e-6 * scale, int(np.argmax(wrong.ravel()))
    if first and not got.ravel()[first:].any():
        return (f"Only the first {first} of its {got.size} entries (in row-major order) are right; from entry "
                f"{first} on, yours is 0 everywhere: a loop that stopped early (a return or break inside the loop, a range too "
                "short" + (": only the last entry, a range off by one" if first == got.size - 1 else "") + ") or entries never written.")
    c, ratio = g[0], np.divide(g, w, out=np.zeros_like(g), where=w != 0)
    side = "exceeds" if (w > c).all() and c == got.max() else "is below" if (w < c).all() and c == got.min() else ""
    text = next((text for fits, text in (
        (n > 1 and np.ptp(g) <= tight and c != 0, f"yours is {c:.4g} wherever the expected value {side} it: a cap, clip or "
         "limit where none belongs" if side else f"yours is the same value {c:.4g}: a fill or default"),
        (np.allclose(g, -w, rtol=1e-6, atol=tight), "yours has the opposite sign: one branch or one case of the "
         "formula has its sign flipped"),
        (n > 1 and np.ptp(g + w) <= tight < np.ptp(w), f"yours equals {(g + w)[0]:.4g} minus the expected value: the complement there, one "
         "branch or case of the formula (e.g. for negative inputs) computes the other side"),
        (n > 1 and np.ptp(g - w) <= tight < np.ptp(w), f"yours is off by the same amount {(g - w)[0]:.4g}: a term added or left out in "
         "those entries only"),
        (n > 1 and np.all(g * w != 0) and np.ptp(ratio) <= 1e-6 * np.abs(ratio).max(), f"yours is {ratio[0]:.4g} times the "
         "expected value: a factor applied to those entries only")) if fits), None)
    return text and f"Only some entries are wrong ({n} of {got.size}), and there {text}." + (f" {rows}" if rows else "")


def _small_error_diagnosis(got, want) -> str | None:
    """A small difference (relative 1e-7 to 1e-4) that no pattern above explains: an approximation."""
    if 1e-7 < (error := relative_error(got, want)) < 1e-4:
        return (f"The difference is small (relative error {error:.2g}) and has none of the patterns of a formula "
                "mistake (a factor, a sign, an offset, a region): an approximation, e.g. a finite-difference step too "
                "small (rounding dominates) or too large, a float32 intermediate, or a tiny constant in the wrong place.")


def _offset_diagnosis(got, want, given) -> str | None:
    """Yours = a * expected + b (1 - p for p, say) + c * y for inputs y the call was given, not already a multiple of the
    expected value, when there are enough entries; or yours - expected the same all along an axis (a term per row)."""
    if got.size < 3:
        return None
    scale, tight = _magnitude(got, want), 1e-6 * _magnitude(got, want)
    design, names = np.stack([want.ravel(), np.ones(want.size)], axis=1), []
    for name, y in given.items() if got.size >= 3 * (len(given) + 2) else ():  # each in turn, if independent
        if np.linalg.norm(y.ravel() - design @ np.linalg.lstsq(design, y.ravel(), rcond=None)[0]) > 1e-3 * np.linalg.norm(y):
            design, names = np.column_stack([design, y.ravel()]), names + [name]
    (a, b, *c), *_ = np.linalg.lstsq(design, got.ravel(), rcond=None)
    terms = "".join(f" {'-' if k < 0 else '+'} {abs(k):.4g} times {name}" for k, name in zip(c, names)
                    if abs(k) * np.abs(given[name]).max() > 1e-3 * scale)
    fits = abs(a) > 1e-3 and np.allclose(got.ravel(), design @ [a, b, *c], rtol=1e-6, atol=tight) and np.ptp(want) > 1e-3 * scale
    if fits and terms:
        return (f"It equals {'' if np.isclose(a, 1) else f'{a:.4g} times '}the expected value{terms}" + f" {'-' if b < 0 else '+'} {abs(b):.4g}" * bool(
            abs(b) > 1e-3 * scale) + ": a term in that input is added, left out, or has the wrong factor or sign (the "
                "upstream gradient of the chain rule, an identity path, a decay term), or a constant stands in its place.")
    if abs(b) > 1e-3 * scale and fits:
        if np.isclose(a, -1.0, rtol=1e-6):
            return (f"It equals {b:.4g} minus the expected value: the complement (1 - p for p, or the two "
                    "branches of a formula swapped).")
        return (f"It equals {a:.4g} times the expected value plus {b:.4g}: a constant added or left out"
                + (" (and a factor)." if not np.isclose(a, 1.0, rtol=1e-6) else "."))
    difference = got - want
    for axis in range(got.ndim if got.ndim > 1 else 0):
        if got.shape[axis] > 1 and np.ptp(difference, axis=axis).max() <= tight \
                and np.abs(difference).max(axis=axis).min() > 1e-3 * scale:  # every slice is off
            return (f"It differs from the expected value by an amount that is the same all along axis {axis}, "
                    f"one per index of the other axes: a term computed per {'row' if axis == got.ndim - 1 else 'slice'} "
                    "(a maximum, a mean or a log-sum subtracted for stability?) was added or left out.")
    return _separable_diagnosis(got, want, difference, tight)


def _separable_diagnosis(got, want, difference, tight) -> str | None:
    """Yours - expected, or log(yours / expected), is u[i] + v[j]: a statistic taken over the wrong axis."""
    with np.errstate(all="ignore"):
        ratio = np.log(got / want) if np.all(got * want > 0) else None
    for d, tol, how in ((difference, tight, "differs from the expected value by a term"),
                        (ratio, 1e-6, "equals the expected value times a factor")):
        for p, q in combinations([k for k in range(got.ndim) if got.shape[k] > 2], 2) if d is not None else ():
            both = d.mean(p, keepdims=True) + d.mean(q, keepdims=True) - d.mean((p, q), keepdims=True)
            if min(np.ptp(d, p).max(), np.ptp(d, q).max()) > 10 * tol and np.allclose(d, both, rtol=0, atol=tol):
                return (f"It {how} that does not depend on axis {p} {'plus' if d is difference else 'times'} one that "
                        f"does not depend on axis {q}: a statistic (a maximum, a sum, a log-sum, a norm) taken over "
                        "the wrong axis, or a term per row or per column broadcast along the wrong axis.")


def _equals_earlier(got, want, scenario) -> str | None:
    """Another value of the test: an earlier quantity's (stale, copied), yours of a later one (swapped), an input the
    call was given; or the expected value times a simple function of one of them, y (a factor of y missing or extra)."""
    def equal(a, b, rtol=1e-6):  # b varies (or is a number other than 0 and 1): no coincidence of constants
        return a.shape == b.shape and (np.ptp(b) > 0 if b.size > 1 else abs(b) not in (0, 1)) and np.allclose(
            a, b, rtol=rtol, atol=rtol * 1e-6 * _magnitude(got, want))
    for what, yours in scenario["later"]:  # exactly (1e-12): not a float32 twin of this value
        if isinstance(yours, (np.ndarray, float)) and np.asarray(yours).dtype.kind == "f" and equal(np.asarray(yours), want, 1e-12):
            return (f"Your value of {what!r}, checked after this one, is the expected value here: two results swapped "
                    "(returned, assigned or stored in the wrong order), or each value one step late.")
    others = [((yours, f"your value of {what!r}, checked before"), (y, f"the expected value of {what!r}, checked before"))
              for what, yours, y in reversed(scenario["earlier"])]
    for pair in others + [((v, f"the input {name}, given to the call"),) for name, v in scenario["given"].items()]:
        for value, whose in pair:
            if not _close(value, want, 1e-4, 0.0) and equal(got, value, 1e-6 if got.size > 1 else 1e-12):
                return f"It equals {whose}: " + ("what must act on it (a mask, a factor, a derivative) is missing, or "
                        "it is returned in place of the result." if "given" in whose else "a value not recomputed (stale), "
                        "an array reused or returned twice, or two results swapped.")
        y, whose = pair[-1]
        with np.errstate(all="ignore"):
            for text, k in ((" times y", y), (" divided by y", 1 / y), (" times (1 - y)", 1 - y),
                            (" divided by (1 - y)", 1 / (1 - y)), (" divided by (1 + y)", 1 / (1 + y))):
                if k.shape == got.shape and got.size > 1 and np.isfinite(k).all() and np.abs(k - 1).max() > 1e-3 \
                        and np.ptp(k) > 0 and equal(got, want * k):
                    return (f"It equals the expected value{text}, with y {whose}: a factor of y is missing or extra "
                            "(as the upstream gradient of the chain rule, s(1 - s), 1 - y^2 or exp in a derivative).")


def _slice_scale_diagnosis(got, want) -> str | None:
    """Yours = a * expected + b with a (and b) the same along an axis, changing across it: a wrong scale per row."""
    scale = _magnitude(got, want)
    for axis in range(got.ndim if got.ndim > 1 else 0):
        g, w = (np.moveaxis(x, axis, -1).reshape(-1, got.shape[axis]) for x in (got, want))
        if g.shape[1] < 3 or g.shape[0] < 2 or np.ptp(w, axis=1).min() <= 1e-3 * scale:
            continue
        wc, gc = w - w.mean(axis=1, keepdims=True), g - g.mean(axis=1, keepdims=True)
        a = np.sum(wc * gc, axis=1, keepdims=True) / np.sum(wc * wc, axis=1, keepdims=True)  # least squares
        if np.ptp(a) < 1e-3 * abs(a).max() or abs(a).min() < 1e-3 or not np.allclose(gc, a * wc, atol=1e-6 * scale):
            continue
        offset = " plus an offset" if np.abs(g - a * w).max() > 1e-6 * scale else ""
        return (f"It equals the expected value times a factor{offset} that is the same all along axis {axis}, one per "
                f"index of the other axes ({a.min():.3g} to {a.max():.3g}): a scale per row, column or channel is "
                "wrong, e.g. a normalisation by the wrong statistic (a maximum or a mean for a sum, a std for a "
                "variance or the reverse) or axes.")


def _reordered_diagnosis(got, want) -> str | None:
    """Yours holds exactly the expected numbers at other positions (distinct ones: no coincidence of repeats)."""
    scale = _magnitude(got, want)
    if got.size < 4 or np.unique(want).size < 0.9 * want.size or np.abs(got - want).max() < 1e-3 * scale or \
            not np.allclose(np.sort(got, axis=None), np.sort(want, axis=None), rtol=1e-6, atol=1e-9 * scale):
        return None
    rows = got.ndim > 1 and np.allclose(np.sort(got.reshape(len(got), -1)), np.sort(want.reshape(len(want), -1)))
    return ("It holds exactly the expected numbers" + ", each row its own," * bool(rows) + " in another order: a "
            "reshape or flatten of axes in the wrong order (transpose them first), a wrong index, or items reordered.")


def _region_diagnosis(got, wrong, regions) -> str | None:
    return next((f"It is wrong only where {description}: {advice}" for mask, description, advice in regions
                 if wrong.any() and not (wrong & ~np.broadcast_to(np.asarray(mask, dtype=bool), got.shape)).any()), None)


def _constant_axis_diagnosis(got, want) -> str | None:
    """Yours is the same all along an axis where the expected value varies (one value for every example)."""
    scale = 1e-9 * _magnitude(got, want)
    for axis in range(got.ndim if got.size >= 3 else 0):
        if got.shape[axis] > 1 and np.ptp(got, axis=axis).max() <= scale < 1e-6 * np.ptp(want, axis=axis).max():
            return (f"It is the same all along axis {axis} (length {got.shape[axis]}), where the expected value varies: "
                    f"one value shared by every index of axis {axis}, or a sum or mean over the wrong axes broadcast back.")


def _dtype_diagnosis(got, want, wrong) -> str | None:
    """Differences at the level of float32 or float16 rounding, in a float64 result."""
    scale = _magnitude(got, want)
    worst = float(np.max(np.abs(got - want)[wrong])) / scale if scale else 0.0
    for name, eps in (("float32", 2.0 ** -23), ("float16", 2.0 ** -10)):
        if worst <= ROUNDING_EPS * eps:
            with np.errstate(all="ignore"):
                exact = np.array_equal(got, got.astype(name).astype(np.float64))
            if exact:
                return (f"Every value is exactly a {name} number and the differences are at the level of {name} "
                        f"rounding (eps {eps:.2g}): the computation ran in {name}, or passed through a {name} array.")
            if name == "float16":
                return None  # a few per cent: a formula mistake as likely as float16 rounding
            return (f"The differences are at most {worst / eps:.2g} eps of {name} (eps {eps:.2g}) of the largest magnitude: "
                    f"a {name} intermediate, or an approximation that small (e.g. eps added after a square root).")


def _rows_diagnosis(got, want, wrong) -> str | None:
    """Which rows (axis 0) or columns (the last axis) are wrong, when only some are, each by more than rounding."""
    if wrong.all() or np.max(np.abs(got - want)[wrong]) < INDEX_ERROR_FRACTION * _magnitude(got, want):
        return None
    if wrong.sum() == 1:
        return "Only one entry is wrong: look for an off-by-one index or an edge case."
    for axis, name in ((0, "rows (axis 0)" if got.ndim > 1 else "entries"), (got.ndim - 1, "columns (the last axis)")):
        bad = np.flatnonzero(np.moveaxis(wrong, axis, 0).reshape(wrong.shape[axis], -1).any(axis=1))
        if (got.ndim > 1 or not axis) and 0 < len(bad) <= wrong.shape[axis] // 2:  # most of them wrong: no pattern
            where = {(0,): "only the first", (wrong.shape[axis] - 1,): "only the last"}.get(tuple(bad), "only")
            return (f"It is wrong in {where} {len(bad)} of {wrong.shape[axis]} {name}: {', '.join(map(str, bad[:8]))}"
                    f"{', ...' if len(bad) > 8 else ''}; the others are right. Look for what is special there (an "
                    "edge, the last batch, a wrong index or slice).")


_SHAPES = r"\(([0-9, ]*)\)"


def _shape_tuple(text: str) -> tuple:
    return tuple(int(n) for n in text.replace(" ", "").split(",") if n)


def explain_error(message: str) -> str | None:
    """A sentence naming the likely mistake behind an error NumPy (or Python) raised in the learner's code,
    from the shapes and names its message gives; None when it says nothing recognisable."""
    found = next(filter(None, (re.search(before + _SHAPES + between + _SHAPES, message) for before, between in (
        ("could not be broadcast together with shapes ", " "), ("could not broadcast input array from shape ", " into "
         "shape "), (r"remapped shapes \[original->remapped\]: ", r"\s*and requested shape "),
        ("non-broadcastable output operand with shape ", " doesn't match the broadcast shape ")))), None)
    if found:
        (a, b), advice = (_shape_tuple(found.group(k)) for k in (1, 2)), ""
        if len(a) == len(b) == 2 and a == b[::-1]:
            advice = " One is the other transposed: a missing or extra .T."
        elif sorted(a) == sorted(b):
            advice = (" They have the same lengths in another order: axes permuted, by a transpose with the axes in the "
                      "wrong order, or a reshape where a transpose was needed.")
        elif len(a) == len(b) == 2 and a[1] == b[0] and a[0] != b[0] and a[1] != b[1]:
            advice = f" They fit a matrix product: {a} @ {b}. An element-wise * where a matrix product (@) was meant?"
        elif "output operand" in message and len(a) < len(b):
            advice = f" The result has more axes than the array it goes into (+=, out=): sum them away (the batch?) to get {a}."
        elif len(a) != len(b) and (a and b) and (a[0] in b[:1] or b[0] in a[:1]):
            advice = (" The shorter one lines up with the LAST axes of the other; to go along the first axis "
                      "it needs its summed axis back, of length 1: keepdims=True in the sum or mean, "
                      "np.expand_dims(g, axis), or [:, None].")
        elif "indexing arrays" in message:
            advice = (" Index arrays used together pair up entry by entry (one row index per label): are both made "
                      "for this batch, or is one kept from an earlier call (stale) or made with another length?")
        elif len(a) == len(b) and sum(m != n for m, n in zip(a, b)) == 1:
            axis = next(k for k, (m, n) in enumerate(zip(a, b)) if m != n)
            advice = (f" They differ only along axis {axis} ({a[axis]} and {b[axis]}): two sizes that should agree, "
                      "e.g. a sum over the other axis, an output size from the wrong stride, kernel or padding (off by "
                      "one?), an array of another batch or call, or what forward saved (the input, not the output?).")
        elif not {n for n in a if n > 1} & {n for n in b if n > 1}:
            advice = (" They share no length: arrays of different things were combined, e.g. another parameter's, "
                      "layer's or call's array (an index that does not advance, one buffer shared by all).")
        elif len(a) == len(b):
            advice = " An array summed or sliced over the wrong axis, or two results swapped?"
        return f"NumPy lines shapes up from the last axis and each pair must be equal or 1; {a} and {b} do not.{advice}"
    if found := re.search(r"cannot reshape array of size (\d+) into shape " + _SHAPES, message):
        return (f"The array holds {found.group(1)} entries and the shape {_shape_tuple(found.group(2))} needs "
                f"{int(np.prod(_shape_tuple(found.group(2))))}: a size computed wrongly (a stride, padding or "
                "axis left out; an output size off by one), or the wrong array reshaped.")
    shapes = {_shape_tuple(text) for text in re.findall(_SHAPES, message)}
    if pair := next(((a, b) for a, b in (s for s in shapes if len(s) == 2) if a != b and {(a,), (b,)} <= shapes), None):
        return f"Both lengths of {pair} appear alone: the two were swapped (a shape unpacked as (C, N) for (N, C)?)."
    return next((sentence.format(*found.groups()) for pattern, sentence in _PLAIN_ERRORS
                 if (found := re.search(pattern, message))), None)


_MATMUL = ("In a matrix product A @ B the last axis of A must have the length of B's first axis ({0} and {1} here): "
           "an operand needs a transpose (.T), the two are in the wrong order, or one is the wrong array (the input where "
           "the weights belong, a gradient where the values belong).")
_PLAIN_ERRORS = (  # (a regular expression found in an error's message, the likely mistake with its groups)
    ("matmul.*size ([0-9]+) is different from ([0-9]+)", _MATMUL), ("not aligned: ([0-9]+) .dim .. != ([0-9]+)", _MATMUL),
    (r"expects input of shape \(N, ([0-9]+)[^)]*\), got \([0-9]+, (?!\1\b)([0-9]+)", "A layer built for {0} features (or "
     "channels) received an input with {1}: the layers ran in the wrong order, one was skipped or ran twice, or the "
     "input has another layout."),
    ("index (-?[0-9]+) is out of bounds for axis ([0-9]+) with size ([0-9]+)", "Index {0} runs past the end of "
     "axis {1} (length {2}): an off-by-one, an index into the wrong axis, a loop bound taken from another axis "
     "(the same length only for square shapes), or a list shorter than expected."),
    ("axis to squeeze out which has size not equal to one", "np.squeeze(a, axis) needs that axis of length 1: the "
     "reduction before it ran over another axis (the axis argument ignored, a fixed axis=0?) or without keepdims=True."),
    ("high - low range exceeds valid bounds", "The bounds given to rng.uniform are NaN or inf: the square root of a "
     "negative number (a difference where a sum belongs?) or a division by zero."),
    ("list index out of range", "An index ran past the end of a list: the list is shorter than the code expects. Was "
     "it filled before this use (one entry per layer, step or parameter), or emptied (cleared, reset) in between?"),
    ("NoneType", "A value your code uses is None: an attribute that was never set (did forward save what backward "
     "needs, e.g. self._x = x?) or a function that does not `return` its result."),
    ("too many indices for array|axis -?[0-9]+ is out of bounds for array of dimension", "The array has fewer axes "
     "than the code indexes or reduces over: a sum or mean without keepdims=True, a squeeze, a 1-D array where a "
     "column (N, 1) or a batch axis was meant, or the axes of another layout."),
    ("cannot be interpreted as an integer|only integer|must be integers|sequence of integers", "A float was used as a size, count or "
     "index: / gives a float even between whole numbers; use // (or int()) for a count."),
    ("truth value of an array with more than one element", "An array was used where one True or False is needed (an "
     "if, and, or, or max() on arrays): use element-wise np.where, np.maximum, a mask with & and |, or .any()/.all()."),
    ("Cannot cast ufunc .* to dtype\\('u?int|typecode '[bhilqp]'", "Floats were written in place (+=, out=) into an "
     "integer array: an array made from integers (labels, np.arange, an int list, zeros_like of those) must be "
     "created with a float dtype."),
    ("division by zero|divide by zero", "A division by zero: a count that is 0 (an empty batch or list, a loop that "
     "never ran, a size that integer division made 0), or a denominator without its eps."),
)


def describe(what: str, result: Comparison) -> str:
    """The failure message for a comparison, a few plain lines."""
    if result.shape_problem is not None:
        return f"{what} is wrong. {result.diagnosis}"
    lines = [f"{what} is wrong (relative error {result.relative_error:.3g}).", result.diagnosis]
    if result.first_index is not None:
        got, expected = format_pair(result.got_at_first, result.expected_at_first)
        index = result.first_index[0] if len(result.first_index) == 1 else result.first_index
        lines.append(f"Got {got}, expected {expected}." if index == () else f"First difference at index {index}: got "
                     f"{got}, expected {expected} ({result.n_wrong} of {result.size} entries differ).")
    return "\n".join(filter(None, lines))
