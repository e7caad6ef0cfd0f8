"""The kata's contract, proven on every run of `make test`:

- solutions pass everything (the exercise tests themselves run against solutions/ in `make test`);
- every stub fails only its own tests, each with a 'not implemented' message naming its exercise;
- every known-wrong variant (tests/mutants/) is caught by its own exercise's tests, with a diagnosis;
- stubs and solutions do not drift: same public names and signatures, stubs equal the generated ones.

The stub and mutant runs happen in child processes (the grader's own runner), two at a time.
"""

from __future__ import annotations

import inspect
from concurrent.futures import ThreadPoolExecutor

import pytest

from grader.core import manifest
from grader.core import stubs as stubgen
from grader.maintainer import mutation
from grader.core import target as targets
from grader.core.manifest import EXERCISES_DIR, SOLUTIONS_DIR
from grader.core.runner import run_exercises
from grader.feedback import checks

KATA = manifest.load()
NAMES = KATA.names
# The first test of a group waits for all child runs of that group (module-scoped fixtures).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def test_every_exercise_has_a_solution_a_stub_tests_mutants_and_hints():
    problems = []
    for ex in KATA.exercises:
        for path in (SOLUTIONS_DIR / ex.module_file, EXERCISES_DIR / ex.module_file, ex.test_file,
                     mutation.MUTANTS_DIR / ex.module_file):
            if not path.exists():
                problems.append(f"{ex.name}: missing {path.relative_to(manifest.ROOT)}")
        if len(ex.hints) < 3:
            problems.append(f"{ex.name}: fewer than three hints")
        bank = mutation.MUTANTS_DIR / ex.module_file
        if bank.exists() and not mutation.load_bank(ex.name):
            problems.append(f"{ex.name}: tests/mutants/{ex.module_file} has no mutants")
    assert not problems, "\n".join(problems)


def test_committed_stubs_equal_what_the_generator_makes_from_the_solutions():
    stale = [name for name, text in stubgen.expected_stubs().items()
             if (EXERCISES_DIR / f"{name}.py").read_text() != text]
    assert not stale, f"exercises/ is out of date for {stale}: run `make stubs` and commit the result."


def _public_api(module) -> dict[str, str]:
    """{name: signature} of the functions, classes and methods a module defines (not imports)."""
    api = {}
    for name, value in vars(module).items():
        if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(value):
            api[name] = str(inspect.signature(value))
        elif inspect.isclass(value):
            api[name] = "class"
            for attribute, member in vars(value).items():
                if inspect.isfunction(member) and (not attribute.startswith("_") or attribute == "__init__"):
                    api[f"{name}.{attribute}"] = str(inspect.signature(member))
    return api


@pytest.mark.parametrize("name", NAMES)
def test_stub_and_solution_define_the_same_public_names_and_signatures(name):
    stub = targets.module(targets.load_package(EXERCISES_DIR), name)
    solution = targets.module(targets.load_package(SOLUTIONS_DIR), name)
    stub_api, solution_api = _public_api(stub), _public_api(solution)
    missing = sorted(set(solution_api) - set(stub_api))
    extra = sorted(set(stub_api) - set(solution_api))
    different = sorted(k for k in set(stub_api) & set(solution_api) if stub_api[k] != solution_api[k])
    assert not (missing or extra or different), (
        f"exercises/{name}.py and solutions/{name}.py disagree: missing in the stub {missing}, only in the "
        f"stub {extra}, different signatures {different}"
    )


def _exercises_read(request, reads: str) -> list[str]:
    """The exercises whose results the selected tests read through the fixture `reads` (or that the selected
    tests named `reads` check): all of them as soon as one such test is not one per exercise."""
    names = set()
    for item in request.session.items:
        if reads in getattr(item, "fixturenames", ()) or getattr(item, "originalname", None) == reads:
            params = getattr(getattr(item, "callspec", None), "params", {})
            if "name" not in params:
                return NAMES
            names.add(params["name"])
    return [name for name in NAMES if name in names]


def _judged(folder, names):
    runs = run_exercises([KATA.exercise(name) for name in names], [folder], mode="judge") if names else {}
    return {name: runs[name][str(folder)] for name in names}


@pytest.fixture(scope="module")
def judged_runs(request):
    """The stubs' and the reference's runs of the exercises selected tests read (`-k autograd`: autograd's),
    started together: each is one judge and one worker at a time, so the two fill a 2-core machine."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield {folder: pool.submit(_judged, folder, _exercises_read(request, fixture))
               for folder, fixture in ((EXERCISES_DIR, "stub_runs"), (SOLUTIONS_DIR, "solution_runs"))}


@pytest.fixture(scope="module")
def stub_runs(judged_runs):
    """Each exercise's tests judged against the untouched stubs (sandboxed workers, one judge)."""
    return judged_runs[EXERCISES_DIR].result()


@pytest.fixture(scope="module")
def solution_runs(judged_runs):
    """Each exercise's tests judged against the reference as a submission: proves that every test runs in
    a worker that sees only its exercise's dependencies, and passes there."""
    return judged_runs[SOLUTIONS_DIR].result()


@pytest.mark.parametrize("name", NAMES)
def test_the_reference_passes_every_test_when_judged_in_the_sandbox(solution_runs, name):
    run = solution_runs[name]
    failing = [f"{t.test}: {t.message[:300]}" for t in run.tests if not t.passed]
    assert run.problem is None and run.total > 0 and not failing, (run.problem, failing)


# Tests that still rest only on numbers a worker could report (an expected value the scenario hands to the
# worker as a plain value, an input echoed back unchanged, a property zeros have) and are not marked fact.
# Issue 16 rewrote them all: expected values from the reference's run of the scenario (check_close_ref, which
# `make test` checks against PyTorch or the closed form), or a judged output beside an "unchanged" or a
# structural check. Counts only go down; a new forgeable test must be fixed or marked fact.
FORGEABLE_LEFT: dict[str, int] = {}


def test_no_check_can_pass_on_a_number_the_worker_chose():
    """The judge counts a check as a judged quantity only when the worker never held its expected value and
    zeros of the right shape fail it; an echoed input, a plain value and a property of zeros weigh as facts."""
    import numpy as np

    x = np.arange(1.0, 7.0).reshape(2, 3)
    run = checks.begin(checks.JUDGE, [checks.Observation(what, kind, checks.wire.encode_value(value)) for what, kind, value
                                      in [("plain", "close", x), ("judged", "close", 2 * x), ("zeros", "close", 0 * x),
                                          ("shape", "that", x), ("mean", "that", x), ("echo", "unchanged", x)]])
    checks.check_close("plain", x, x)  # the scenario computed it in the worker too: a forged check echoes it
    checks.check_close("judged", 2 * x, lambda: 2 * x)
    checks.check_close("zeros", 0 * x, lambda: 0 * x)  # a stub returning zeros passes
    checks.check_that("shape", x, lambda v: v.shape == (2, 3), "wrong shape")
    checks.check_that("mean", x, lambda v: abs(v.mean() - 3.5) < 0.1, "wrong mean")
    checks.check_unchanged("echo", x.copy(), x)
    checks.end()
    assert run.kinds == ["close, worker-computable", "close", "close, worker-computable", "that, worker-computable",
                         "that", "unchanged"]
    assert {kind for kind in run.kinds if kind in checks.QUANTITY_KINDS} == {"close", "that"}


def test_every_test_judges_a_quantity_and_fact_only_tests_are_worth_little(solution_runs):
    """A judged quantity is a value the judge computed for inputs it chose, which the worker never held and
    zeros do not match (checks.QUANTITY_KINDS, _worker_computable); a test resting only on what the worker
    reports (a flag, a name, an exception's class, an echoed input) could be faked by a submission. Those are
    marked @pytest.mark.fact, exactly those (but for FORGEABLE_LEFT), and weigh runner.FACT_WEIGHT of a judged
    test: together they stay under 3% of the points, all a submission forging every observation can earn."""
    unmarked, overmarked, worth, total = {}, [], 0.0, 0.0
    for name in NAMES:
        exercise, run = KATA.exercise(name), solution_runs[name]
        weights = sum(test.weight for test in run.tests)
        for test in run.tests:
            assert test.kinds, f"{name}: {test.test} decided nothing"
            fact_only = not set(test.kinds) & checks.QUANTITY_KINDS
            if fact_only and not test.fact:
                unmarked.setdefault(name, []).append(f"{name}: {test.test} {test.kinds}")
            if test.fact and not fact_only:
                overmarked.append(f"{name}: {test.test}")
            if test.fact:
                worth += exercise.points * test.weight / weights
        total += exercise.points
    changed = {name: len(unmarked.get(name, [])) for name in NAMES
               if len(unmarked.get(name, [])) != FORGEABLE_LEFT.get(name, 0)}
    assert not changed, ("tests resting on worker-reported numbers only, not marked fact (FORGEABLE_LEFT: lower it "
                         f"when you fix one), now {changed}:\n" + "\n".join(sum(unmarked.values(), [])))
    assert not overmarked, "marked fact but judge a quantity; unmark them:\n" + "\n".join(overmarked)
    assert worth / total < 0.03, f"{worth:.2f} of {total:g} points rest on worker-reported facts only"


@pytest.mark.parametrize("name", NAMES)
def test_each_stub_fails_only_its_own_tests_with_a_not_implemented_message(stub_runs, name):
    run = stub_runs[name]
    assert run.problem is None, f"the tests of {name} did not run cleanly against the stubs: {run.problem}"
    assert run.total > 0, f"no tests ran for {name}"
    passing = [t.test for t in run.tests if t.passed]
    assert not passing, (
        f"these tests of {name} pass against the untouched stub, so they cannot fail: {passing}"
    )
    foreign = [f"{t.test}: {t.kind}: {t.message.splitlines()[0] if t.message else ''}"
               for t in run.tests if not (t.not_implemented and t.message.startswith(f"NotImplementedError: {name}:"))]
    assert not foreign, (
        f"these tests of {name} fail against the stubs for another reason than {name}'s own "
        "NotImplementedError:\n" + "\n".join(foreign)
    )


@pytest.fixture(scope="module")
def mutant_verdicts(request):
    """The variants of the exercises selected tests read, one run per exercise, two at a time. The known-wrong
    ones run only where a known-wrong test is selected: make test-fast checks the legitimate ones alone,
    a tenth of the work."""
    wrong = set(_exercises_read(request, test_every_known_wrong_variant_is_caught_and_diagnosed.__name__))
    names = _exercises_read(request, "mutant_verdicts")
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(names, pool.map(lambda name: mutation.check(name, known_wrong=name in wrong), names)))


@pytest.mark.parametrize("name", NAMES)
def test_every_known_wrong_variant_is_caught_and_diagnosed(mutant_verdicts, name):
    verdicts = [v for v in mutant_verdicts[name] if not v.legitimate]
    assert verdicts, f"{name} has no known-wrong variants in tests/mutants/{name}.py"
    escaped = [v.mutant.name for v in verdicts if not v.caught]
    assert not escaped, f"{name}: these known-wrong variants pass every test: {escaped}"
    undiagnosed = [f"{v.mutant.name} (expected the message to mention {v.mutant.diagnosis!r}"
                   + (" in every failing test" if v.mutant.everywhere else "")
                   + (f" and never {v.mutant.misdiagnosis!r}" if v.mutant.misdiagnosis else "") + "; got: "
                   f"{(v.messages[0] or '').splitlines()[0] if v.messages else 'nothing'})"
                   for v in verdicts if not v.diagnosed]
    assert not undiagnosed, f"{name}: caught without naming the mistake (or naming a wrong one):\n" + \
        "\n".join(undiagnosed)


@pytest.mark.parametrize("name", NAMES)
def test_every_legitimate_variant_passes_every_test(mutant_verdicts, name):
    """Correct code that differs from the reference (another formula, another order of operations) must
    pass: a test that only accepts the reference's rounding is a false failure for a learner."""
    failing = [f"{v.mutant.name}: {v.failed_tests[:3]} {(v.messages[0] or '')[:300] if v.messages else ''}"
               for v in mutant_verdicts[name] if v.legitimate and v.caught]
    assert not failing, f"{name}: correct variants fail:\n" + "\n".join(failing)


def test_every_part_and_milestone_in_the_manifest_is_backed_by_code():
    problems = []
    for ex in KATA.exercises:
        if not ex.parts:
            continue
        text = "".join(path.read_text() for path in ex.test_files if path.exists())
        for part in ex.parts:
            if f'part("{part}")' not in text:
                problems.append(f"{ex.name}: part {part!r} has no test marked @pytest.mark.part({part!r})")
    for milestone in KATA.milestones:
        module_file = manifest.ROOT / (milestone.module.replace(".", "/") + ".py")
        if not module_file.exists():
            problems.append(f"milestone {milestone.name}: {module_file.relative_to(manifest.ROOT)} is missing")
    assert not problems, "\n".join(problems)
