"""`make compare EX=layers [TARGET=...]`: your outputs and gradients next to the reference's, in numbers.

The probe of the exercise (grader/feedback/probes/<exercise>.py) runs the exercise's main computations on small
random inputs, once with your module and once with the reference, from the same seed. For each quantity
it prints both shapes, the largest absolute and relative differences, the first entry that differs and,
when the numbers show a known fingerprint (a factor N, a sign, a transpose), the likely mistake. It shows
numbers only, never the reference's code.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import traceback
from pathlib import Path

import numpy as np

from grader.feedback import diagnose
from grader.core import manifest
from grader.core import target as targets
from grader.core.manifest import SOLUTIONS_DIR
from grader.core.target import Modules

DEFAULT_SEED = 20261125


class ProbeFailed(Exception):
    """The learner's code raised inside the probe; the message says where, in a sentence."""


def load_probe(name: str):
    """The probe module of an exercise, or None when it has none."""
    try:
        return importlib.import_module(f"grader.feedback.probes.{name}")
    except ModuleNotFoundError as error:
        if error.name == f"grader.feedback.probes.{name}":
            return None
        raise


def _where(error: BaseException, target_dir: Path) -> str:
    """'Linear.backward (layers.py line 42)' for the deepest frame inside the target, else ''."""
    if isinstance(error, SyntaxError) and error.filename:
        return f"{Path(error.filename).name} line {error.lineno}"
    found = ""
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        path = Path(frame.f_code.co_filename)
        if target_dir in path.parents:
            found = f"{frame.f_code.co_qualname} ({path.name} line {lineno})"
    return found


def explain_failure(error: BaseException, target_dir: Path) -> str:
    where = _where(error, target_dir)
    if isinstance(error, SystemExit):
        return (f"your code called sys.exit({error.code!r})" + (f" in {where}" if where else "")
                + ": that ends the program running it; raise an exception or return instead.")
    if isinstance(error, NotImplementedError):
        if where:
            function, _, location = where.partition(" (")
            return f"{function} is not implemented yet ({location}: write it, then compare again."
        return f"A function of the exercise is not implemented yet: {error}"
    text = f"{type(error).__name__}: {error}".strip()
    sentence = f"your code raised {text}" + (f" in {where}" if where else "") + "."
    if isinstance(error, ValueError) and any(w in str(error) for w in ("mismatch", "broadcast", "align", "shape")):
        sentence += ("\nThe shapes in a product or sum do not fit: write each factor's shape next to the formula "
                     "in the docstring, e.g. (N, out) @ (out, in) -> (N, in).")
    return sentence


def _accepts_out(probe) -> bool:
    try:
        return "out" in inspect.signature(probe.probe).parameters
    except (TypeError, ValueError):
        return False


def run_probe(probe, modules: Modules, seed: int, partial: dict | None = None) -> dict:
    """The probe's named outputs. A probe written as `probe(m, rng, out=None)` also stores each quantity
    in `out` as soon as it has it, so the quantities computed before the learner's code raised can still
    be compared (`partial` receives them)."""
    rng = np.random.default_rng(seed)
    if _accepts_out(probe):
        out = {} if partial is None else partial
        results = probe.probe(modules, rng, out=out)
        results = out if results is None else results
    else:
        results = probe.probe(modules, rng)
    return {str(k): v for k, v in results.items()}


def _shape(value) -> str:
    if value is None:
        return "None"
    try:
        array = np.asarray(value)
    except Exception:  # an object NumPy cannot hold
        return type(value).__name__
    if array.dtype == object:
        return type(value).__name__
    return "scalar" if array.shape == () else str(tuple(array.shape))


def _number(x: float) -> str:
    return f"{x:.3g}"


def compare_quantity(name: str, yours, reference, batch_size=None) -> tuple[bool, list[str]]:
    """(equal, lines) for one quantity."""
    result = diagnose.compare(yours, reference, batch_size=batch_size)
    shapes = f"{_shape(yours):>10} {_shape(reference):>10}"
    if result.shape_problem is not None:
        return False, [f"{name:<32} {shapes}  {'-':>12} {'-':>12}  DIFFERENT", f"    {result.diagnosis}"]
    got = np.asarray(yours, dtype=np.float64)
    want = np.asarray(reference, dtype=np.float64)
    with np.errstate(all="ignore"):
        difference = np.abs(got - want)
        relative = difference / np.maximum(np.abs(want), np.finfo(np.float64).tiny)
    max_abs = float(np.max(difference)) if difference.size else 0.0
    max_rel = float(np.max(np.where(difference == 0, 0.0, relative))) if difference.size else 0.0
    verdict = "same" if result.ok else "DIFFERENT"
    lines = [f"{name:<32} {shapes}  {_number(max_abs):>12} {_number(max_rel):>12}  {verdict}"]
    if not result.ok:
        if result.first_index is not None:
            index = result.first_index if len(result.first_index) != 1 else result.first_index[0]
            index_text = "" if result.first_index == () else f" at index {index}"
            lines.append(f"    first difference{index_text}: yours {result.got_at_first:.6g}, reference "
                         f"{result.expected_at_first:.6g} ({result.n_wrong} of {result.size} entries differ)")
        if result.diagnosis:
            lines.append(f"    {result.diagnosis}")
    return result.ok, lines


def compare(name: str, target_dir: Path, *, seed: int = DEFAULT_SEED) -> tuple[int, str]:
    """(exit status, text): 0 when every quantity matches, 1 when some differ or the code raised."""
    kata = manifest.load()
    exercise = kata.exercise(name)
    probe = load_probe(name)
    header = (f"Exercise {exercise.number}, {name}: your {targets.display_name(target_dir)}/{exercise.module_file} "
              f"next to the reference (seed {seed}).")
    if probe is None:
        return 2, (f"{header}\nThere is no probe for `{name}` yet, so there are no numbers to compare. "
                   f"`make check EX={name}` runs its tests, whose failure messages say what differs.")
    reference = run_probe(probe, Modules(targets.load_package(SOLUTIONS_DIR, own=None)), seed)
    learner = Modules(targets.load_package(target_dir, own={name}))
    partial: dict = {}
    failure = None
    try:
        yours = run_probe(probe, learner, seed, partial)
    except (Exception, SystemExit) as error:  # the learner's code: report it in a sentence, no traceback
        failure = explain_failure(error, target_dir)
        yours = {str(k): v for k, v in partial.items()}
    if failure is not None and not yours:
        lines = [header, failure,
                 "Nothing to compare until the probe gets further. "
                 f"`make check EX={name}` shows the tests' messages; `make hint EX={name}` gives a hint."]
        return 1, "\n".join(lines)
    batch_size = getattr(probe, "BATCH_SIZE", None)
    lines = [header, ""]
    lines.append(f"{'quantity':<32} {'yours':>10} {'reference':>10}  {'max abs diff':>12} {'max rel diff':>12}  verdict")
    all_equal = failure is None
    for key, expected in reference.items():
        if key not in yours:
            all_equal = False
            if failure is None:
                lines.append(f"{key:<32} {'-':>10} {_shape(expected):>10}  {'-':>12} {'-':>12}  NOT COMPUTED")
            continue
        equal, quantity_lines = compare_quantity(key, yours[key], expected, batch_size)
        all_equal &= equal
        lines += quantity_lines
    lines.append("")
    missing = [key for key in reference if key not in yours]
    different = any(line.endswith("DIFFERENT") for line in lines)
    if different:
        lines.append("Start with the first DIFFERENT quantity: later ones often inherit its error. "
                     f"`make check EX={name}` shows the tests' explanations.")
    if failure is not None:
        lines.append(f"Stopped there: {failure}")
        lines.append("Not compared: " + "; ".join(missing) + ".")
    elif missing:
        lines.append("NOT COMPUTED: the probe skipped these quantities, usually because a function they need is "
                     f"not implemented yet. `make check EX={name}` names it.")
    elif all_equal:
        lines.append(f"Every quantity matches the reference. `make check EX={name}` runs the full tests.")
    return (0 if all_equal else 1), "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make compare", description=__doc__.splitlines()[0])
    parser.add_argument("exercise", nargs="?")
    parser.add_argument("--target", default=None)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    kata = manifest.load()
    problem = kata.usage_problem(args.exercise, "compare")
    if problem:
        print(problem, file=sys.stderr)
        return 2
    try:
        target_dir = targets.resolve(args.target)
    except targets.TargetError as error:
        print(f"make compare: {error.args[0]}", file=sys.stderr)
        return 2
    try:
        status, text = compare(args.exercise, target_dir, seed=args.seed)
    except KeyboardInterrupt:
        print("\nStopped. If it never finishes, look for an endless loop in your code "
              f"(`make check EX={args.exercise}` stops each test after its time limit).")
        return 130
    print(text)
    # Differences are the answer to the question asked, not a failure of the command (make would
    # print an error line after them); only a missing probe is reported as a failure.
    return 2 if status == 2 else 0


if __name__ == "__main__":
    sys.exit(main())
