"""Stretch exercise (performance): a profiler whose parts add up, and the judge's textbook and inputs for
the fast MLP and CNN training steps (their tests: test_performance_steps.py).

A fast step must compute what the textbook step computes: every expected value is the judge's own run
of the reference textbook layers (Linear, ReLU, Conv2d, MaxPool2d, Flatten, SoftmaxCrossEntropy, SGD) in
float64 on the same parameters and batches. Known mistakes are recognised by running the textbook with
that mistake built in (gradients never cleared, momentum lost, ...) and comparing.
"""

import time

import numpy as np
import pytest

from grader.feedback.checks import check_close, check_equal, check_that


LR, MOMENTUM = 0.1, 0.9
# float32 end to end against a float64 textbook: the change of a parameter over a few steps agrees to
# about 1e-6 of its size; a wrong step is off by far more.
RTOL, ATOL = 2e-3, 2e-6


def busy(seconds):
    """Work (not sleep) for `seconds` of CPU time: the profiler must see the time spent."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def parameter_names(count):
    return [f"{'Wb'[index % 2]}{index // 2 + 1}" for index in range(count)]


# ---------------------------------------------------------------------------------------------------
# The judge's textbook: reference layers in float64, with optional known mistakes built in


def textbook_mlp(ref, params):
    layers = []
    for index in range(0, len(params), 2):
        if index:
            layers.append(ref.activations.ReLU())
        n_in, n_out = params[index].shape
        layers.append(ref.layers.Linear(n_in, n_out, rng=np.random.default_rng(0)))
    return ref.network.Sequential(*layers)


def mistake_layers(ref):
    """Layers (on the reference's Layer base class) that build known mistakes into a textbook CNN:
    (ChannelsLastFlatten, PoolTiesToAll, InputGradientMistake). Each class is made by a function of the
    base class because only the judge has the reference."""
    Layer = ref.layers.Layer
    return channels_last_flatten(Layer), pool_ties_to_all(Layer), input_gradient_mistake(Layer)


def channels_last_flatten(Layer):
    class ChannelsLastFlatten(Layer):
        """A Flatten that reads (N, C, H, W) features in (h, w, c) order: the Linear layer's rows taken in
        the wrong order (a fast CNN that forgot to permute them)."""

        def forward(self, x):
            self.shape = x.shape
            return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).reshape(len(x), -1)

        def backward(self, grad):
            n, c, h, w = self.shape
            return grad.reshape(n, h, w, c).transpose(0, 3, 1, 2)

    return ChannelsLastFlatten


def pool_ties_to_all(Layer):
    class PoolTiesToAll(Layer):
        """2 x 2 max-pooling whose backward gives each window's gradient to EVERY position equal to its
        maximum."""

        def forward(self, x):
            n, c, h, w = x.shape
            self.x = x
            self.y = x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
            return self.y

        def backward(self, grad):
            up = lambda a: a.repeat(2, axis=2).repeat(2, axis=3)  # noqa: E731
            return up(grad) * (self.x == up(self.y))

    return PoolTiesToAll


def input_gradient_mistake(Layer):
    class InputGradientMistake(Layer):
        """Wraps the second convolution: its dL/dx as a fast step with a known mistake would compute it.

        "stale": the padded buffer is never cleared, so each step returns the sum of all steps' dL/dx so
        far. "assigned": col2im writes each kernel offset's block with = instead of +=, so where windows
        overlap only the last offset's contribution survives.
        """

        def __init__(self, conv, kind):
            super().__init__()
            self.conv, self.kind, self.total = conv, kind, [None]  # a list: the total outlives recall()

        def forward(self, x):
            self.x_shape = x.shape
            return self.conv.forward(x)

        def backward(self, grad):
            dx = self.conv.backward(grad)
            if self.kind == "stale":
                if self.total[0] is None:
                    self.total[0] = dx.copy()  # the first batch is a full one
                else:
                    self.total[0][:len(dx)] += dx  # a shorter batch uses the first rows of the buffer
                return self.total[0][:len(dx)].copy()
            W = self.conv.W.data
            out_channels, in_channels, k, _ = W.shape
            n, _, height, width = self.x_shape
            pad = self.conv.padding
            padded = np.zeros((n, in_channels, height + 2 * pad, width + 2 * pad))
            for i in range(k):
                for j in range(k):
                    padded[:, :, i:i + height, j:j + width] = np.einsum("nohw,oc->nchw", grad, W[:, :, i, j])
            return padded[:, :, pad:pad + height, pad:pad + width]

    return InputGradientMistake


def textbook_cnn(ref, params, *, flatten="textbook", pool="textbook", input_gradient="textbook"):
    conv = ref.conv
    (c1, c0, k, _), c2 = params[0].shape, params[2].shape[0]
    first = conv.Conv2d(c0, c1, k, padding=k // 2, rng=np.random.default_rng(0))
    second = conv.Conv2d(c1, c2, k, padding=k // 2, rng=np.random.default_rng(0))
    last = ref.layers.Linear(*params[4].shape, rng=np.random.default_rng(0))
    model = ref.network.Sequential(first, conv.MaxPool2d(2), ref.activations.ReLU(), second, conv.MaxPool2d(2),
                                   ref.activations.ReLU(), conv.Flatten(), last)
    for p, value in zip(model.parameters(), params):
        p.data[...] = value
    ChannelsLastFlatten, PoolTiesToAll, InputGradientMistake = mistake_layers(ref)
    if pool == "ties to all":
        model.layers[1], model.layers[4] = PoolTiesToAll(), PoolTiesToAll()
    if flatten == "channels last":
        model.layers[6] = ChannelsLastFlatten()
    if input_gradient != "textbook":
        model.layers[3] = InputGradientMistake(second, input_gradient)
    return model, [first.W, first.b, second.W, second.b, last.W, last.b]


def textbook_run(ref, model, parameters, batches, *, batch_size, momentum=MOMENTUM, clear=True,
                 last_divided_by_batch_size=False):
    """Train a textbook model on the batches as the fast step should; (losses, final parameters, parameters
    after the first step)."""
    optimizer = ref.optim.SGD(parameters, lr=LR, momentum=momentum)
    loss_fn = ref.losses.SoftmaxCrossEntropy()
    losses, first = [], None
    for index, (x, labels) in enumerate(batches):
        if clear:
            optimizer.zero_grad()
        losses.append(loss_fn.forward(model.forward(np.asarray(x, dtype=np.float64)), labels))
        grad = loss_fn.backward()
        if last_divided_by_batch_size and index == len(batches) - 1:
            grad = grad * len(x) / batch_size
        model.backward(grad)
        optimizer.step()
        first = first or [p.data.copy() for p in parameters]
    return np.array(losses), [p.data.copy() for p in parameters], first


def mlp_runs(ref, params, batches, batch_size):
    """{variant: (losses, final parameters)} of the textbook and of its known-wrong variants."""
    def run(**options):
        model = textbook_mlp(ref, params)
        parameters = model.parameters()
        for p, value in zip(parameters, params):
            p.data[...] = value
        return textbook_run(ref, model, parameters, batches, batch_size=batch_size, **options)

    return {"textbook": run(), "stale": run(clear=False), "no momentum": run(momentum=0.0),
            "last divided": run(last_divided_by_batch_size=True)}


def cnn_runs(ref, params, batches, batch_size):
    def run(options=None, **model_options):
        model, parameters = textbook_cnn(ref, params, **model_options)
        return textbook_run(ref, model, parameters, batches, batch_size=batch_size, **(options or {}))

    return {"textbook": run(), "stale": run({"clear": False}), "no momentum": run({"momentum": 0.0}),
            "last divided": run({"last_divided_by_batch_size": True}),
            "channels last": run(flatten="channels last"), "ties to all": run(pool="ties to all"),
            "stale dx": run(input_gradient="stale"), "assigned dx": run(input_gradient="assigned")}


MLP_MISTAKES = {
    "stale": "what the textbook computes when the gradients of earlier steps are never cleared: a reused "
             "gradient buffer was added to (+=) without being reset; write it with out= (or clear it) each step.",
    "no momentum": "what SGD WITHOUT momentum computes: the velocity was overwritten (=) where it must "
                   "accumulate (u *= momentum, then u += g).",
    "last divided": "what the textbook computes if the last, shorter batch is averaged over batch_size "
                    "instead of its own n: divide by len(x).",
}
CNN_MISTAKES = {
    **MLP_MISTAKES,
    "channels last": "what a model computes whose Linear layer reads channels-last (h, w, c) features with "
                     "W3's rows still in Flatten's (c, h, w) order: permute W3's rows once, in __init__ (and "
                     "back in parameters()).",
    "ties to all": "what max-pooling computes when a tied window gives its gradient to EVERY position "
                   "equal to its maximum: only the first one (row-major within the window) may take it.",
    "stale dx": "what the textbook computes if the buffer collecting the second convolution's dL/dx is "
                "never cleared between steps: a stale buffer adds the old steps' gradients; set it to zero "
                "at the start of each step.",
    "assigned dx": "what col2im computes with = instead of +=: where windows overlap, only the last kernel "
                   "offset's contribution survives; add each offset's block into the buffer.",
}


def check_steps(what, fast, start, batches, runs, mistakes, *, profiler=None):
    """Run the fast step on the batches; check each parameter's change, then the losses, against the judge's
    textbook run (runs: a callable returning mlp_runs or cnn_runs). The parameters come first: a wrong
    gradient shows in its own parameter's row (in `make compare` too) before it spoils every loss."""
    losses = [fast.step(*batches[0], profiler)]
    first = fast.parameters()
    losses = np.array(losses + [fast.step(x, labels, profiler) for x, labels in batches[1:]], dtype=np.float64)

    def alternatives(pick):
        return lambda: [(pick(result), mistakes[name]) for name, result in runs().items() if name in mistakes]

    final = fast.parameters()
    check_equal(f"{what}: parameters() gives one array per parameter", len(final), len(start),
                lambda got: f"{what}: parameters() returned {got} arrays; expected {len(start)}, one per "
                            "parameter in the textbook order [W1, b1, W2, b2, ...].")
    for steps, values, at in ((1, first, 2), (len(batches), final, 1)):
        for index, name in enumerate(parameter_names(len(start))):
            changed = np.asarray(values[index], dtype=np.float64) - start[index]
            check_close(f"{what}: how {name} changed over {steps} step{'s' * (steps > 1)} (its value from "
                        "parameters() minus the value it was given)", changed,
                        lambda index=index, at=at: runs()["textbook"][at][index] - start[index], rtol=RTOL, atol=ATOL,
                        alternatives=alternatives(lambda result, index=index, at=at: result[at][index] - start[index]))
    check_close(f"{what}: the losses returned by {len(batches)} steps", losses, lambda: runs()["textbook"][0],
                rtol=1e-4, atol=1e-5, alternatives=alternatives(lambda result: result[0]))


# ---------------------------------------------------------------------------------------------------
# Inputs


def mlp_params(rng, sizes):
    """float32 parameters [W1, b1, ...] of an MLP of these sizes, non-zero biases."""
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params.append((rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(np.float32))
        params.append((0.1 * rng.standard_normal(n_out)).astype(np.float32))
    return params


def mlp_batches(rng, n_in, classes, sizes):
    """Batches whose first features are zero in every row (like MNIST's border pixels)."""
    batches = []
    for n in sizes:
        x = rng.random((n, n_in)).astype(np.float32)
        x[:, :n_in // 4] = 0.0
        x[x < 0.3] = 0.0
        batches.append((x, rng.integers(0, classes, n)))
    return batches


def cnn_params(rng, c0, c1, c2, k, height, width, classes):
    """float32 parameters in build_mnist_cnn's layouts; the first biases positive, so that flat regions of
    an image give tied maxima that survive the ReLU."""
    features = c2 * (height // 4) * (width // 4)
    return [(rng.standard_normal((c1, c0, k, k)) * np.sqrt(2.0 / (c0 * k * k))).astype(np.float32),
            rng.uniform(0.1, 0.5, c1).astype(np.float32),
            (rng.standard_normal((c2, c1, k, k)) * np.sqrt(2.0 / (c1 * k * k))).astype(np.float32),
            (0.1 * rng.standard_normal(c2)).astype(np.float32),
            (rng.standard_normal((features, classes)) * np.sqrt(1.0 / features)).astype(np.float32),
            (0.1 * rng.standard_normal(classes)).astype(np.float32)]


def cnn_batches(rng, shape, classes, sizes):
    """Images with a flat zero region (like MNIST's background): max-pooling windows there are tied."""
    c0, height, width = shape
    batches = []
    for n in sizes:
        x = rng.random((n, c0, height, width)).astype(np.float32)
        x[:, :, : height // 2, : width // 2] = 0.0
        batches.append((x, rng.integers(0, classes, n)))
    return batches


# ---------------------------------------------------------------------------------------------------
# Profiler


def explain_profiled_sums(pairs):
    """Why the parts of profiled steps disagree with the step timed around them (thread CPU seconds). The
    check before it proved that step() laps its parts, so a sum far from the step is the clock's doing,
    or a profiler restarted inside step()."""
    shown = ", ".join(f"{1e3 * total:.3f} ms of {1e3 * outside:.3f}" for total, outside in pairs[:3])
    if all(total > outside for total, outside in pairs):
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
        "first", "second", "rest"], lambda names: (
        f"the step's record has the parts {names}; expected ['first', 'second', 'rest']: one entry per part "
        "name in the order first lapped (a part lapped twice keeps its place), and stop() adds 'rest'."))
    rest = record.get("rest") if isinstance(record.get("rest"), float) else 0.0

    def first_problem(seconds):
        if seconds >= 0.003:
            return None
        return f"'first' holds {seconds} s for two laps of at least 2 ms and 1 ms: " + (
            "a part lapped twice in one step gets the SUM of its laps (+=), not the last one."
            if seconds < 0.0025 else "a little less than the work in its laps: time between one reading "
            "of the clock and the next mark is lost. Read the clock once per lap: now = clock(); add now - "
            "mark; mark = now.")

    def sum_problem(parts, total, rest):
        if abs(parts - total) <= 1e-6 + 1e-9 * abs(total):
            return None
        return (f"the parts add up to {1e3 * parts:.3f} ms but the step took {1e3 * total:.3f} ms: "
                + ("the total is the parts without 'rest': it stops at the last lap. The step's total runs from "
                   "start() to stop(), 'rest' included." if rest > 0 and abs(parts - rest - total) <= 1e-6
                   else "the parts overlap: lap() must move the mark to now, so the next part starts where this "
                   "one ended." if parts > total else "some time is in no part: every lap adds to its part, "
                   "and stop() charges the time since the last mark to 'rest'."))

    def problem(times):  # one observation: every property must hold of the same step's numbers
        first, second, parts, total, rest, outside = (float(t) for t in times)
        return first_problem(first) or sum_problem(parts, total, rest) or (
            None if 0.001 <= second < 0.5 else f"'second' holds {second} s for 1 ms of work: a lap is the time "
            "since the previous mark (start() or the previous lap).") or (
            None if 0.004 <= total <= outside else f"totals[-1] is {total} s for a step measured at {outside} s "
            "from outside: it must be stop() minus start() in CPU seconds of the thread (time.thread_time).")

    def number(value):
        return value if isinstance(value, (int, float)) else float("nan")

    times = [number(record.get("first")), number(record.get("second")), sum(map(number, record.values())),
             number(total), rest, outside]
    check_that("the parts 'first' (2 ms and 1 ms of work) and 'second' (1 ms), their sum, the step's total and "
               "the time measured around the step", times, lambda times: problem(times) is None, problem)


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
               lambda faults: faults >= 16, lambda faults: (
                   f"faults[1] is {faults} for a step that touched 64 MiB of new memory (at least 16 faults even "
                   "with 4 MiB pages): count ru_minflt of resource.getrusage at start() and at stop()."))


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
               "not the process's count since it started.")
    check_that("the page faults of the step that touched 64 MiB of fresh memory", faults[1] if faults[1:] else None,
               lambda count: count >= 16, lambda count: (
                   f"faults[1] is {count} for a step that touched 64 MiB of new memory (at least 16 faults even "
                   "with 4 MiB pages): count ru_minflt of resource.getrusage at start() and at stop()."))


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
                   "; each record holds the parts of its own step only, ending with 'rest'."))

    check_equal("the parts of each step's record, and how many distinct dicts the records are", [parts, distinct],
                [[["first step", "rest"], ["second step", "rest"], ["third step", "rest"]], 3], message)
