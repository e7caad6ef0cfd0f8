"""Stretch exercise (performance): a profiler whose parts add up to the step, also around the fast steps (their
other tests are in test_performance_steps.py, the judge's textbook for them in test_performance_textbook.py).

A profiler's numbers are times the test also measures around the calls, on the same clock (this thread's
CPU time): each property is checked on one step's numbers, and a failure names the mistakes consistent
with them (another clock, another unit, a part lost or counted twice, a record shared between steps).
"""

import time

import numpy as np
import pytest

from grader.feedback.checks import check_equal, check_that
from test_performance_steps import cnn_batches, cnn_params, mlp_batches, mlp_params
from test_performance_textbook import LR, MOMENTUM


def busy(seconds):
    """Work (not sleep) for `seconds` of CPU time: the profiler must see the time spent."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


# ---------------------------------------------------------------------------------------------------
# Profiler


def explain_profiled_sums(steps):
    """Why the parts of profiled steps disagree with the step timed around them (thread CPU seconds); steps:
    (sum of the parts, the profiler's total, the time around the step). The check before it proved that step()
    laps its parts, so a sum far from the step is the clock's doing, laps that overlap, or a profiler
    restarted inside step()."""
    shown = ", ".join(f"{1e3 * parts:.3f} ms of {1e3 * outside:.3f}" for parts, _, outside in steps[:3])
    ratios = [parts / total if parts > 0 and total > 0 else 1.0 for parts, total, _ in steps]
    if all(units(ratio) for ratio in ratios):
        return (f"the parts of a profiled step add up to {ratios[0]:.4g} times the profiler's own total: the parts and "
                f"the total are in different units ({units(ratios[0])}). Keep every time in seconds.")
    if all(parts > outside for parts, _, outside in steps):
        if all(parts > total + 1e-6 for parts, total, _ in steps):
            return (f"the parts of a profiled step add up to more than the step timed around it ({shown}) and "
                    "more than the profiler's own total: the parts overlap, some time is in two parts (lap() must "
                    "move the mark to now; stop() charges 'rest' only the time since the last mark).")
        return (f"the parts of a profiled step add up to MORE than the step timed around it ({shown}): the "
                "profiler's clock counts time this thread did not spend. time.thread_time counts this thread's "
                "CPU time only; time.process_time adds every other thread's, time.perf_counter the time others "
                "ran.")
    return (f"the parts of a profiled step cover less than half of the step timed around it ({shown}), "
            "although step() laps them: is the profiler's clock this thread's CPU time, time.thread_time, as "
            "the docstring says (time.process_time counts the whole process, time.perf_counter the wall "
            "clock)? Otherwise step() restarts the profiler (start() belongs to the caller).")


def test_profiler_parts_tile_the_step_and_add_up_to_it(ex, rng):
    profiler = ex.Profiler()
    started = time.thread_time()
    profiler.start()
    busy(0.002)
    profiler.lap("first")
    busy(0.001)
    profiler.lap("second")
    busy(0.001)
    profiler.lap("first")
    profiler.stop()
    outside = time.thread_time() - started
    record = dict(profiler.records[-1])
    total = profiler.totals[-1]
    check_equal("the parts of a step lapped 'first', 'second', 'first', then stopped", list(record), [
        "first", "second", "rest"], names_message)
    parts = [number(seconds) for seconds in record.values()]
    times = [number(record.get("first")), number(record.get("second")), sum(parts), number(total),
             number(record.get("rest", 0.0)), outside, min(parts, default=0.0), max(parts, default=0.0)]
    check_that("the parts 'first' (2 ms and 1 ms of work) and 'second' (1 ms), their sum, the step's total and "
               "the time measured around the step", times, lambda times: time_problem(times) is None, time_problem)


def number(value):
    return value if isinstance(value, (int, float)) else float("nan")


def names_message(names):
    if names == ["first", "second"]:
        return ("the step's record has the parts ['first', 'second']: 'rest' is missing. stop() adds 'rest' (the time "
                "since the last mark) to the step's parts BEFORE it keeps the record: a record appended, or copied, "
                "before 'rest' is added has none.")
    return (f"the step's record has the parts {names}; expected ['first', 'second', 'rest']: one entry per part "
            "name in the order first lapped (a part lapped twice keeps its place), and stop() adds 'rest'.")


def time_problem(times):
    """What is wrong with one step's numbers (seconds of this thread's CPU time), the likely mistakes first."""
    first, second, parts, total, rest, outside, lowest, highest = (float(t) for t in times)
    telescoped = abs(parts - total) <= 1e-6 + 1e-9 * abs(total)  # the laps tile the step (else: sum_problem)
    return clock_problem(lowest, highest, parts, total, outside, mixed_only=True) or \
        first_problem(first, second, telescoped) or clock_problem(lowest, highest, parts, total, outside) or \
        sum_problem(parts, total, rest, outside, second) or (
            None if 0.001 <= second < 0.5 else f"'second' holds {second} s for 1 ms of work: a lap is the time "
            "since the previous mark (start() or the previous lap).") or (
            None if 0.004 <= total <= outside else f"totals[-1] is {total} s for a step measured at {outside} s "
            "from outside: it must be stop() minus start() in CPU seconds of the thread (time.thread_time).")


def clock_problem(lowest, highest, parts, total, outside, mixed_only=False):
    """A part or the total that no reading of one clock can give: negative, or longer than the whole step (two
    clocks mixed, only those with mixed_only), a coarse clock, other units."""
    telescoped = abs(parts - total) <= 1e-6 + 1e-9 * abs(total)  # the laps tile the step (else: sum_problem)
    if telescoped and (lowest < 0 or highest > outside + 0.05):  # no tick of a coarse clock: two clocks mixed
        return (f"a part holds {lowest if lowest < 0 else highest:.6g} s, {'negative' if lowest < 0 else 'more than'}"
                f"{'' if lowest < 0 else f' the whole step measured around it ({outside:.6g} s)'}: one difference "
                "of two readings of ONE clock cannot be that. lap() reads another clock than start() and stop() "
                "(time.perf_counter, time.time), or a mark taken on one clock is subtracted from another's; read "
                "time.thread_time everywhere.")
    if mixed_only:
        return None
    if telescoped and highest > outside:
        return (f"a part holds {highest:.6g} s, more than the whole step measured around it on this thread's CPU "
                f"clock ({outside:.6g} s): the profiler's clock counts time this thread did not spend, or advances "
                "in ticks (time.process_time: every thread's CPU time, updated at each scheduler tick under a "
                "CPU-time limit; the wall clock: the time others ran). Use time.thread_time.")
    ratio = total / parts if parts > 0 and total > 0 else 1.0
    if unit := units(ratio):
        return (f"totals[-1] is {ratio:.4g} times the sum of its parts: the total and the parts are in different units "
                f"({unit}). Keep every time in seconds, as the clock gives them.")
    if total > outside:
        return (f"the step's total is {1e3 * total:.3f} ms, longer than the step measured around it on this thread's "
                f"CPU clock ({1e3 * outside:.3f} ms): " + (
                    "the profiler's clock counts time this thread did not spend (time.process_time adds every "
                    "thread's, the wall clock the time others ran): use time.thread_time."
                    if telescoped else
                    f"it is read from another clock than the parts (which add up to {1e3 * parts:.3f} ms): the wall "
                    "clock (time.perf_counter, time.time) counts the time other processes ran. One clock for the "
                    "parts and the total: time.thread_time."))


def units(ratio):
    """The units two times are in when one is `ratio` times the other (a factor 1000 or 1e6), or None."""
    return next((f"a factor {factor:g}: {text} and seconds" for factor, text in (
        (1e3, "milliseconds"), (1e6, "microseconds"), (1e-3, "milliseconds"), (1e-6, "microseconds"))
        if abs(ratio / factor - 1) < 0.02), None)


def first_problem(first, second, telescoped):
    if first >= 0.003:
        return None
    if first == second == 0.0 and not telescoped:  # (a coarse clock's laps of 0 still add up to the total)
        return ("every lap holds 0 s: the mark moves to now BEFORE the time since it is charged, so a lap measures "
                "nothing. Charge now - mark to the part first, then move the mark.")
    return f"'first' holds {first} s for two laps of at least 2 ms and 1 ms: " + (
        "a part lapped twice in one step gets the SUM of its laps (+=), not the last one."
        if first < 0.0025 else "a little less than the work in its laps: time between one reading "
        "of the clock and the next mark is lost. Read the clock once per lap: now = clock(); add now - "
        "mark; mark = now.")


def sum_problem(parts, total, rest, outside, second):
    if abs(parts - total) <= 1e-6 + 1e-9 * abs(total):
        return None
    return (f"the parts add up to {1e3 * parts:.3f} ms but the step took {1e3 * total:.3f} ms: " + (
        "the total is the parts without 'rest': it stops at the last lap. The step's total runs from start() to "
        "stop(), 'rest' included." if rest > 0 and abs(parts - rest - total) <= 1e-6 else
        "'rest' holds the whole step (the laps are right): stop() charges to 'rest' only the time since the LAST "
        "mark, not since start()." if abs(rest - total) <= 1e-6 and 0.5 * outside <= total and second < 0.002 else
        "the total is 'rest' alone, the time since the last mark: the step's total is stop() minus start() (the "
        "mark moves at every lap, the start does not)." if rest > 0 and abs(rest - total) <= 1e-6 and
        total < 0.5 * outside else
        "the parts overlap: lap() must move the mark to now, so the next part starts where this one ended."
        if parts > total else "some time is in no part (every lap adds to its part, and stop() charges the time "
        "since the last mark to 'rest'), or the total is read from another clock than the parts (one clock for "
        "both: time.thread_time)."))


def faults_message(count):
    if isinstance(count, (int, float)) and count < 0:
        return (f"faults[1] is {count}: a count of page faults is never negative. The subtraction is reversed (start() "
                "minus stop()): a step's faults are ru_minflt at stop() MINUS ru_minflt at start().")
    return (f"faults[1] is {count} for a step that touched 64 MiB of new memory (at least 16 faults even with 4 MiB "
            "pages): count ru_minflt of resource.getrusage at start() and at stop()" + (
                ", of this process (RUSAGE_SELF, not RUSAGE_CHILDREN) and its minor faults (ru_minflt, not the major "
                "ones, ru_majflt, which need a disk)." if count == 0 else "."))


@pytest.mark.part("profiler")
def test_profiler_keeps_one_record_total_and_fault_count_per_step(ex, rng):
    profiler = ex.Profiler()
    for step in range(3):
        profiler.start()
        if step == 1:
            # 64 MiB of fresh memory, touched: the kernel must hand over new pages (page faults).
            fresh = np.ones(16 << 20, dtype=np.float32)
            profiler.lap("touch fresh memory")
            del fresh
        profiler.lap("work")
        profiler.stop()
    counts = [len(profiler.records), len(profiler.totals), len(profiler.faults)]
    check_equal("lengths of records, totals and faults after 3 steps", counts, [3, 3, 3], lambda got: (
        f"after 3 profiled steps records, totals and faults have {got} entries; expected one per step: "
        "stop() appends the step's record, total and page-fault count (start() must not clear them)."))
    check_that("the page faults of a step that touches 64 MiB of fresh memory", profiler.faults[1],
               lambda faults: faults >= 16, faults_message)


@pytest.mark.part("profiler")
def test_profiler_counts_the_page_faults_of_each_step_only(ex, rng):
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    profiler = ex.Profiler()
    for step in range(3):
        profiler.start()
        if step == 1:
            fresh = np.ones(16 << 20, dtype=np.float32)  # 64 MiB, touched: at least 16 faults in this step
            del fresh
        profiler.lap("work")
        profiler.stop()
    during = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    faults = [int(count) for count in profiler.faults]
    # The steps are disjoint stretches of the time between the two readings: their faults add up to at most
    # the faults of the whole stretch, which are few; a count since the process started is thousands.
    check_that("the sum of faults[i] over 3 steps against the page faults of the whole loop around them",
               [faults, during], lambda pair: sum(pair[0]) <= pair[1],
               lambda pair: f"the 3 steps report {pair[0]} page faults, {sum(pair[0])} in all, while the whole loop "
               f"around them had {pair[1]}: a step's count must be ru_minflt at stop() MINUS ru_minflt at start(), "
               + ("not the process's count since it started." if max(pair[0], default=0) > pair[1] else
                  "read afresh at EVERY start(): each step also counts the faults of the steps before it (the "
                  "starting count read once, in __init__ or the first start())."))
    check_that("the page faults of the step that touched 64 MiB of fresh memory", faults[1] if faults[1:] else None,
               lambda count: count >= 16, faults_message)


@pytest.mark.fact  # names of parts and a count of dicts: the times and faults above are the judged quantities
@pytest.mark.part("profiler")
def test_profiler_keeps_a_record_of_its_own_for_every_step(ex, rng):
    profiler = ex.Profiler()
    for name in ("first step", "second step", "third step"):
        profiler.start()
        profiler.lap(name)
        profiler.stop()
    parts = [list(record) if isinstance(record, dict) else type(record).__name__ for record in profiler.records]
    distinct = len({id(record) for record in profiler.records})  # how many dictionary objects they are

    def message(observed):
        parts, distinct = observed
        return (f"records hold the parts {parts} after steps that lapped 'first step', 'second step', 'third step'"
                + ("; they are one dictionary object, reused: start() must begin a NEW dict for each step ({}), "
                   "since clearing the old one changes every record already kept." if distinct < len(parts) else
                   ": 'rest' is missing from every record: stop() adds 'rest' BEFORE it keeps the record (a record "
                   "appended, or copied, before 'rest' is added has none)." if all(
                       isinstance(names, list) and "rest" not in names for names in parts) else
                   "; each record holds the parts of its own step only, ending with 'rest'."))

    check_equal("the parts of each step's record, and how many distinct dicts the records are", [parts, distinct],
                [[["first step", "rest"], ["second step", "rest"], ["third step", "rest"]], 3], message)


@pytest.mark.part("profiler")
def test_profiler_counts_the_time_of_its_own_thread_only(ex, rng):
    import sys
    import threading

    other = threading.Thread(target=busy, args=(0.03,), daemon=True)  # CPU time of another thread, meanwhile
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)  # the two threads take turns often: the other one runs inside the step
    try:
        profiler = ex.Profiler()
        started = time.thread_time()
        other.start()
        profiler.start()
        busy(0.01)
        profiler.lap("work")
        profiler.stop()
        outside = time.thread_time() - started
    finally:
        sys.setswitchinterval(switch)
        other.join()
    parts = [number(seconds) for seconds in profiler.records[-1].values()]
    total = number(profiler.totals[-1])
    check_that("the parts and total of a step while another thread works, and the step timed around it on this "
               "thread's CPU clock", [sum(parts), total, min(parts, default=0.0), max(parts, default=0.0), outside],
               # strictly shorter than the step timed around it, which also holds the profiler's own start() and stop()
               lambda t: clock_problem(t[2], t[3], t[0], t[1], t[4]) is None and 0.01 <= t[1] < t[4],
               lambda t: clock_problem(t[2], t[3], t[0], t[1], t[4]) or (
                   f"the step's total is {t[1]} s for 10 ms of this thread's work, and it spent {t[4]} s in the step: "
                   "totals[-1] is stop() minus start() in this thread's CPU time only (time.thread_time)."))


# ---------------------------------------------------------------------------------------------------
# Profiled fast steps


def profiled_steps(profiler, fast, batches):
    """For each batch, one profiled step: (number of parts, sum of the parts, the profiler's total, the step's
    time on this thread's clock measured around it)."""
    steps = []
    for x, labels in batches:
        started = time.thread_time()
        profiler.start()
        fast.step(x, labels, profiler)
        profiler.stop()
        steps.append((len(profiler.records[-1]), sum(profiler.records[-1].values()), profiler.totals[-1],
                      time.thread_time() - started))
    return steps


@pytest.mark.part("mlp")
def test_mlp_profiled_step_adds_up_to_the_step(ex, rng):
    sizes = (16, 12, 8, 4)
    fast = ex.FastMLP(mlp_params(rng, sizes), lr=LR, momentum=MOMENTUM, batch_size=8)
    batches = mlp_batches(rng, sizes[0], sizes[-1], (8,) * 5)
    steps = profiled_steps(ex.Profiler(), fast, batches)
    check_that("the parts of a profiled FastMLP step", [times[0] for times in steps],
               lambda counts: min(counts) >= 4, lambda counts: (
                   f"a profiled step has {min(counts)} parts: call profiler.lap(name) after each part of the "
                   "step (each layer's forward and backward, the loss, the update) so that the profile says "
                   "where the time goes."))
    check_that("the sum of a profiled FastMLP step's parts against the step measured around it",
               [times[1:] for times in steps],
               lambda steps: any(0.5 * outside <= parts <= outside for parts, _, outside in steps),
               explain_profiled_sums)


@pytest.mark.part("cnn")
def test_cnn_profiled_step_adds_up_to_the_step(ex, rng):
    shape = (1, 8, 8)
    fast = ex.FastCNN(cnn_params(rng, shape[0], 3, 4, 3, shape[1], shape[2], 5), lr=LR, momentum=MOMENTUM,
                      batch_size=4, image_shape=shape)
    steps = profiled_steps(ex.Profiler(), fast, cnn_batches(rng, shape, 5, (4,) * 5))
    check_that("the parts of a profiled FastCNN step", [times[0] for times in steps],
               lambda counts: min(counts) >= 6, lambda counts: (
                   f"a profiled step has {min(counts)} parts: call profiler.lap(name) after each part of the "
                   "step (each convolution's im2col and product, pooling, their backward, the update)."))
    check_that("the sum of a profiled FastCNN step's parts against the step measured around it",
               [times[1:] for times in steps],
               lambda steps: any(0.5 * outside <= parts <= outside for parts, _, outside in steps),
               explain_profiled_sums)
