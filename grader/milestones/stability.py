"""Milestone "stability": where do the textbook formulas break? A measured table, float32 and float64.

Every function of the target's stability module is evaluated on inputs of growing magnitude M (logits up
to +-M, so probabilities as small as exp(-M)) in float32 and float64, and each result is compared with
the exact value, computed here with Python's decimal module at 50 significant digits (no floating-point
range limits, independent of NumPy and of the code under test). Each cell is ok (within 1e-3: relative;
absolute for log-probabilities and losses below 1 in size, whose natural accuracy is absolute), overflow,
NaN, underflow (0 or -inf where the exact value is finite and representable) or lost (off by more), with
a * for a NumPy warning (overflow, division by zero, invalid value; underflow to 0 is harmless). The
milestone passes when every stable_* function is ok, without warnings, at every M in both dtypes; the
naive_* rows are the lesson: the first magnitude where each one breaks.

The exact_* functions are also the oracle of tests/exercises/test_stability.py.
"""

from __future__ import annotations

import itertools
import warnings
from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np

from grader.core import manifest

MAGNITUDES = (1.0, 10.0, 20.0, 50.0, 100.0, 500.0, 1000.0, 10000.0)
QUICK_MAGNITUDES = (1.0, 100.0, 10000.0)
DTYPES = (np.float32, np.float64)
TOLERANCE = 1e-3
PRECISION = 50  # decimal digits of the exact reference

PROBABILITY_FUNCTIONS = ("softmax", "sigmoid")  # relative error down to the smallest normal; others absolute below 1
FUNCTIONS = ("softmax", "log_softmax", "cross_entropy", "sigmoid", "bce_with_logits")


def _decimal(value) -> Decimal:
    """The exact value of a binary float (float32 values are exactly representable in float64)."""
    return Decimal(float(value))


def _log1p(u: Decimal) -> Decimal:
    """log(1 + u) for u >= 0, accurate also when 1 + u would round to 1 at the working precision."""
    if u < Decimal("1e-20"):
        return u - u * u / 2 + u * u * u / 3
    return (1 + u).ln()


def _softplus(a: Decimal) -> Decimal:
    """log(1 + exp(a)) = max(a, 0) + log1p(exp(-|a|))."""
    return max(a, Decimal(0)) + _log1p((-abs(a)).exp())


def _row_log_softmax(row) -> list[Decimal]:
    values = [_decimal(v) for v in row]
    top = max(range(len(values)), key=lambda j: values[j])
    m = values[top]
    rest = sum(((v - m).exp() for j, v in enumerate(values) if j != top), Decimal(0))
    log_sum = _log1p(rest)  # log sum_j exp(z_j - m), the max's own term being exactly 1
    return [(v - m) - log_sum for v in values]


def _rows(z) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    return z.reshape(-1, z.shape[-1])


def _of_log_softmax(z, of) -> np.ndarray:
    """of(log softmax) of each entry along the last axis, exact to 50 digits, rounded to float64."""
    with localcontext(prec=PRECISION):
        out = [[float(of(v)) for v in _row_log_softmax(row)] for row in _rows(z)]
    return np.array(out, dtype=np.float64).reshape(np.shape(z))


def exact_log_softmax(z) -> np.ndarray:
    """log softmax along the last axis, exact to 50 digits, rounded to float64."""
    return _of_log_softmax(z, lambda v: v)


def exact_softmax(z) -> np.ndarray:
    """softmax along the last axis, exact to 50 digits, rounded to float64."""
    return _of_log_softmax(z, Decimal.exp)


def exact_cross_entropy(logits, labels) -> float:
    """-(1/N) sum_n log softmax(logits_n)[labels_n], exact to 50 digits, rounded to float64."""
    rows = _rows(logits)
    with localcontext(prec=PRECISION):
        total = sum((-_row_log_softmax(row)[int(label)] for row, label in zip(rows, np.ravel(labels))),
                    Decimal(0))
        return float(total / len(rows))


def exact_sigmoid(x) -> np.ndarray:
    """1 / (1 + exp(-x)), exact to 50 digits, rounded to float64."""
    x = np.asarray(x, dtype=np.float64)
    with localcontext(prec=PRECISION):
        out = [float((-_softplus(-_decimal(v))).exp()) for v in x.ravel()]
    return np.array(out, dtype=np.float64).reshape(x.shape)


def exact_bce_with_logits(logits, targets) -> float:
    """(1/N) sum [t softplus(-z) + (1 - t) softplus(z)], exact to 50 digits, rounded to float64."""
    z = np.ravel(np.asarray(logits, dtype=np.float64))
    t = np.ravel(np.asarray(targets, dtype=np.float64))
    with localcontext(prec=PRECISION):
        pairs = [(_decimal(zi), _decimal(ti)) for zi, ti in zip(z, t)]
        return float(sum((b * _softplus(-a) + (1 - b) * _softplus(a) for a, b in pairs), Decimal(0)) / len(z))


def sweep_arguments(function: str, magnitude: float, dtype) -> tuple:
    """The arguments for one function at one magnitude M, in dtype (both halves compute them)."""
    if function in ("softmax", "log_softmax", "cross_entropy"):
        # A spread row (overflow at +M) and a row of large negative logits only (0 / 0 when all underflow).
        z = np.array([[1.0, 0.5, 0.0, -0.5, -1.0], [-1.0, -1.25, -1.5, -1.75, -2.0]]) * magnitude
        z = z.astype(dtype)
        return (z, np.array([2, 4])) if function == "cross_entropy" else (z,)
    x = (np.array([-1.0, -0.5, 0.5, 1.0]) * magnitude).astype(dtype)
    return (x, np.array([0.0, 1.0, 0.0, 1.0], dtype=dtype)) if function == "bce_with_logits" else (x,)


EXACT = {"softmax": exact_softmax, "log_softmax": exact_log_softmax, "cross_entropy": exact_cross_entropy,
         "sigmoid": exact_sigmoid, "bce_with_logits": exact_bce_with_logits}


def cases(magnitudes):
    """(kind, function, dtype, magnitude) in the table's order: naive then stable, each function, dtype."""
    return itertools.product(("naive", "stable"), FUNCTIONS, DTYPES, magnitudes)


def observe_task(modules, inputs: dict, send) -> dict:
    """The learner's half, in the sandboxed worker: every function's raw result and NumPy warnings at every
    magnitude, nothing judged (measure classifies them)."""
    found = []
    for kind, function, dtype, magnitude in cases(inputs["magnitudes"]):
        try:
            got, caught = call_recording_warnings(getattr(modules.stability, f"{kind}_{function}"),
                                                  *sweep_arguments(function, magnitude, dtype))
            found.append({"got": got, "warnings": caught})
        except Exception as raised:  # the learner's function raised: reported in its cell
            found.append({"error": f"{type(raised).__name__}: {raised}"})
    return {"observations": found}


def call_recording_warnings(f, *args):
    """(result, [warning messages]); overflow, division by zero and invalid values count, underflow not."""
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
        warnings.simplefilter("always")
        result = f(*args)
    return result, [str(w.message) for w in caught]


def classify(got, exact, dtype, function: str) -> tuple[str, float]:
    """(class, error) of one result; classes: ok, overflow, NaN, underflow, lost, wrong shape."""
    got, exact = np.asarray(got, dtype=np.float64), np.asarray(exact, dtype=np.float64)
    if got.shape != exact.shape:
        return "wrong shape", float("inf")
    if np.isnan(got).any():
        return "NaN", float("inf")
    tiny = float(np.finfo(dtype).tiny)
    floor = tiny if function in PROBABILITY_FUNCTIONS else 1.0
    finite = np.isfinite(exact)
    if (np.isposinf(got) & finite).any():
        return "overflow", float("inf")
    # 0 is an underflow only where it is itself a wrong answer: a probability above the smallest normal
    # number, or a log-probability further than the tolerance from 0.
    zero_is_wrong = np.abs(exact) >= max(tiny, floor * TOLERANCE)
    if ((np.isneginf(got) | ((got == 0) & zero_is_wrong)) & finite).any():
        return "underflow", float("inf")
    if (np.isinf(got) & finite).any():
        return "overflow", float("inf")
    error = float(np.max(np.abs(got - exact) / np.maximum(np.abs(exact), floor)))
    return ("ok" if error <= TOLERANCE else "lost"), error


def _judged(observation, function: str, dtype, magnitude: float) -> tuple[str, float, list]:
    """(class, error, warnings) of one observation, against the exact value the judge computes."""
    if not isinstance(observation, dict) or "error" in observation:
        error = observation.get("error") if isinstance(observation, dict) else "no result"
        return f"error: {error}", float("inf"), []
    exact = EXACT[function](*sweep_arguments(function, magnitude, dtype))
    caught = [str(w) for w in observation.get("warnings") or []]
    try:
        status, error = classify(observation.get("got"), exact, dtype, function)
    except (TypeError, ValueError):
        status, error = f"error: returned a {type(observation.get('got')).__name__}", float("inf")
    return status, error, caught


def measure(observations: list[dict], magnitudes=MAGNITUDES) -> list[dict]:
    """The judge's half: one row per (function, dtype): {function, dtype, cells: {M: class}, errors,
    warnings, first_break}, from the learner's raw observations (observe_task)."""
    rows: dict[tuple, dict] = {}
    for (kind, function, dtype, magnitude), observation in zip(cases(magnitudes), observations):
        name = f"{kind}_{function}"
        row = rows.setdefault((name, dtype), {"function": name, "dtype": np.dtype(dtype).name, "cells": {},
                                              "errors": {}, "warnings": {}, "first_break": None})
        key = f"{magnitude:g}"
        status, error, caught = _judged(observation, function, dtype, magnitude)
        row["cells"][key] = status
        row["errors"][key] = error if np.isfinite(error) else None  # JSON has no inf
        if caught:
            row["warnings"][key] = caught[0]
        if status != "ok" and row["first_break"] is None:
            row["first_break"] = magnitude
    return list(rows.values())


SHORT = {"ok": "ok", "overflow": "inf", "NaN": "NaN", "underflow": "0/-inf", "lost": "lost",
         "wrong shape": "shape"}


def format_table(rows, magnitudes) -> str:
    from tabulate import tabulate

    body = []
    for row in rows:
        keys = [f"{magnitude:g}" for magnitude in magnitudes]
        cells = [SHORT.get(row["cells"][key], "error") + ("*" if key in row["warnings"] else "") for key in keys]
        first = row["first_break"]
        body.append([row["function"], row["dtype"], *cells, "-" if first is None else f"{first:g}"])
    headers = ["function", "dtype", *[f"M={m:g}" for m in magnitudes], "breaks at"]
    return tabulate(body, headers=headers, tablefmt="simple")


LEGEND = (
    "ok: within 1e-3 of the exact value | inf: overflow | NaN | 0/-inf: underflow where the exact value is\n"
    "finite | lost: off by more than 1e-3 | *: NumPy warned (overflow, divide by zero or invalid value).\n"
    "Inputs at magnitude M: logits M*[1, .5, 0, -.5, -1] and -M*[1, 1.25, 1.5, 1.75, 2] (softmax family,\n"
    "labels 2 and 4), x = M*[-1, -.5, .5, 1] (sigmoid; targets 0, 1, 0, 1 for the binary cross-entropy)."
)


def run(target_dir: Path, out_dir: Path, *, quick: bool = False) -> dict:
    """The learner's functions run in a sandboxed worker (observe_task); this process judges."""
    from grader.core import task

    magnitudes = QUICK_MAGNITUDES if quick else MAGNITUDES
    try:
        found = task.run_task("grader.milestones.stability:observe_task", {"magnitudes": list(magnitudes)},
                                 target_dir, timeout=manifest.load().milestone("stability").time_limit)
    except task.TaskFailed as error:
        return {"status": "failed", "reason": f"the sweep stopped: {error}"}
    return report(measure(found.get("observations", []) if isinstance(found, dict) else [], magnitudes),
                  magnitudes, quick)


def report(rows: list[dict], magnitudes, quick: bool) -> dict:
    """Print the table and the verdict; the result dict."""
    table = format_table(rows, magnitudes)
    print(f"Where the textbook formulas break (each cell: the result at logit magnitude M)\n\n{table}\n\n{LEGEND}\n")
    first_break = {f"{r['function']}/{r['dtype']}": r["first_break"] for r in rows}
    for row in rows:
        if row["function"].startswith("naive_"):
            first = row["first_break"]
            where = "never in this sweep" if first is None else f"at M = {first:g} ({row['cells'][f'{first:g}']})"
            if first is None and row["warnings"]:
                key = next(iter(row["warnings"]))
                where += f", but warns from M = {key} ({row['warnings'][key]}) while its values stay right"
            print(f"  {row['function']:<24} {row['dtype']:<8} breaks {where}")
    failures = []
    for row in (row for row in rows if row["function"].startswith("stable_")):
        problems: dict[str, list[str]] = {}  # problem -> magnitudes, so a repeated problem is named once
        for key, status in row["cells"].items():
            if status != "ok":
                problems.setdefault(status, []).append(key)
        for key, text in row["warnings"].items():
            problems.setdefault(f"warned '{text}'", []).append(key)
        if problems:
            failures.append(f"{row['function']} ({row['dtype']}) "
                            + ", ".join(f"M={', '.join(keys)}: {problem}" for problem, keys in problems.items()))
    result = {"table": rows, "table_text": table, "first_break": first_break, "magnitudes": list(magnitudes),
              "quick": quick}
    if failures:
        print("\nNot yet exact:\n  " + "\n  ".join(failures))
        result.update(status="failed", reason="some stable versions are not exact across the sweep: "
                      + "; ".join(failures), stable_failures=failures)
    else:
        print("\nEvery stable_* function is exact, without warnings, at every magnitude in float32 and float64.")
        result.update(status="passed", reason="every stable version is exact (within 1e-3, no warnings) at every "
                      f"magnitude from {magnitudes[0]:g} to {magnitudes[-1]:g} in float32 and float64",
                      stable_failures=[])
    return result
