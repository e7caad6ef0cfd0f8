"""The machinery every exercise relies on: choosing and importing targets, generating stubs, and
recognising mistakes from the numbers."""

from __future__ import annotations

import numpy as np
import pytest

from grader.feedback import diagnose
from grader.core import stubs as stubgen
from grader.core import target as targets
from grader.core.manifest import EXERCISES_DIR, SOLUTIONS_DIR


# --- targets -------------------------------------------------------------------------------------

def test_the_target_comes_from_the_argument_then_the_environment_then_defaults_to_exercises(monkeypatch):
    monkeypatch.delenv("KATA_TARGET", raising=False)
    assert targets.resolve(None) == EXERCISES_DIR.resolve()
    monkeypatch.setenv("KATA_TARGET", "solutions")
    assert targets.resolve(None) == SOLUTIONS_DIR.resolve()
    assert targets.resolve("exercises") == EXERCISES_DIR.resolve()


def test_a_directory_target_is_a_package_whose_modules_import_each_other(tmp_path):
    (tmp_path / "layers.py").write_text("MARK = 'mine'\n")
    (tmp_path / "activations.py").write_text("from .layers import MARK\n")
    own_everything = targets.load_module(tmp_path, "activations")
    assert own_everything.MARK == "mine"


def test_a_mixed_package_takes_only_the_named_exercise_from_the_target(tmp_path):
    (tmp_path / "layers.py").write_text("MARK = 'mine'\n")
    (tmp_path / "activations.py").write_text("from .layers import Linear\n")
    mixed = targets.load_module(tmp_path, "activations", own={"activations"})
    assert mixed.Linear.__module__.endswith(".layers"), "Linear should come from the reference layers"
    assert not hasattr(targets.load_module(tmp_path, "layers", own={"activations"}), "MARK")


def test_a_missing_module_in_the_target_gives_a_sentence(tmp_path):
    (tmp_path / "layers.py").write_text("\n")
    with pytest.raises(ImportError, match="has no init.py"):
        targets.load_module(tmp_path, "init", own={"init"})


def test_bad_targets_are_refused_with_a_reason(tmp_path):
    with pytest.raises(targets.TargetError, match="does not exist"):
        targets.resolve(tmp_path / "missing")
    (tmp_path / "file.txt").write_text("")
    with pytest.raises(targets.TargetError, match="is a file"):
        targets.resolve(tmp_path / "file.txt")
    with pytest.raises(targets.TargetError, match="none of the exercise files"):
        targets.resolve(tmp_path)


# --- stub generation -----------------------------------------------------------------------------

SOLUTION = '''"""Doc."""


def helper_only_the_solution_needs():
    return 1


# <exercise>
def module_level_helper():
    return 2

# </exercise>

class Thing:
    def method(self, x):
        """Keep this docstring."""
        # <exercise>
        return x * 2
        # </exercise>
'''


def test_a_stub_keeps_docstrings_and_replaces_marked_bodies_with_a_named_not_implemented_error():
    stub = stubgen.make_stub(SOLUTION, "demo")
    assert "Keep this docstring." in stub
    assert "return x * 2" not in stub
    assert "raise NotImplementedError('demo: Thing.method is not implemented yet." in stub
    assert "module_level_helper" not in stub
    assert "helper_only_the_solution_needs" in stub
    namespace = {}
    exec(compile(stub, "stub", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="demo: Thing.method"):
        namespace["Thing"]().method(1)


@pytest.mark.parametrize("broken, problem", [
    ("def f():\n    # <exercise>\n    return 1\n", "never closed"),
    ("def f():\n    return 1\n    # </exercise>\n", "without"),
    ("def f():\n    # <exercise>\n    # <exercise>\n    return 1\n    # </exercise>\n", "nested"),
])
def test_unbalanced_markers_are_reported(broken, problem):
    with pytest.raises(stubgen.MarkerError, match=problem):
        stubgen.make_stub(broken, "demo")


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
        diagnose.check_close("dL/db", expected * 1.5, expected)


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


# ---- the worker's frames, its output and its limits (grader/core/wire.py, judge.py, sandbox.py) ---------

def _frame(header: bytes, arrays: list[bytes], declared: int | None = None) -> bytes:
    import struct

    length = struct.Struct("<Q")
    parts = [length.pack(len(header)), header, length.pack(len(arrays) if declared is None else declared)]
    for data in arrays:
        parts += [length.pack(len(data)), data]
    return b"".join(parts)


class _CountingStream:
    """A stream that counts the bytes read from it: a refused frame must be refused before its arrays."""

    def __init__(self, data: bytes):
        import io

        self.stream, self.read_bytes = io.BytesIO(data), 0

    def read(self, n: int) -> bytes:
        chunk = self.stream.read(n)
        self.read_bytes += len(chunk)
        return chunk


@pytest.mark.parametrize("header, arrays, phrase", [
    (b'{"type": ' + b"9" * 5000 + b'}', [], "not acceptable JSON"),
    (b'{"type": "' + b"9" * 500 + b'"}', [], "not one this channel carries"),
    (b'{"type": "test", "n": ' + b"9" * 5000 + b"}", [], "not acceptable JSON"),
    (b"[" * 100_000 + b"]" * 100_000, [], "not acceptable JSON"),
    (b'{"type": "bigger", "value": {"__array__": 0, "dtype": "uint8", "shape": [10]}}', [b"0" * 10],
     "not one this channel carries"),
    (b'{"type": "start", "value": {"__array__": 0, "dtype": "uint8", "shape": [10]}}', [b"0" * 10], "more than the 0"),
    (b'{"type": "test", "value": {"__array__": 0, "dtype": "float64", "shape": [1048576, 1024]}}', [b""],
     "more than the"),
    (b'{"type": "test", "value": {"__array__": 0, "dtype": "uint8", "shape": [4]}}', [b"0" * 8], "came as 8"),
    (b'{"type": "test", "value": {"__array__": 0, "dtype": "object", "shape": [4]}}', [b"0" * 4], "malformed"),
])
def test_a_malformed_or_oversized_frame_is_refused_before_its_arrays_are_read(header, arrays, phrase):
    from grader.core import wire

    stream = _CountingStream(_frame(header, arrays) + b"x" * 100)
    with pytest.raises(wire.WireError, match=phrase):
        wire.read_message(stream, wire.TEST_STREAM)
    assert stream.read_bytes <= 8 + len(header) + 16  # the header, the array count, one array's length


def test_a_frame_must_carry_exactly_the_arrays_its_header_declares():
    from grader.core import wire

    header = b'{"type": "test", "value": {"__array__": 0, "dtype": "uint8", "shape": [2]}}'
    with pytest.raises(wire.WireError, match="declares 1 arrays but carries 3"):
        wire.read_message(_CountingStream(_frame(header, [b"ab"], declared=3)), wire.TEST_STREAM)
    assert wire.read_message(_CountingStream(_frame(header, [b"ab"])), wire.TEST_STREAM)[1] == [b"ab"]


def test_observations_within_their_budget_arrive_whole():
    import io

    from grader.core import wire
    from grader.core.wire import Observation

    value = np.arange(12.0).reshape(3, 4)
    frame = wire.pack_observations("t", [Observation("y", "close", wire.encode_value({"y": value}))], None)
    _, observations, _ = wire.unpack_observations(*wire.read_message(io.BytesIO(frame), wire.TEST_STREAM))
    assert np.array_equal(wire.decode_value(observations[0].value)["y"], value)


def test_a_workers_output_is_read_through_a_pipe_whose_tail_alone_is_kept():
    import subprocess
    import sys

    from grader.core.judge import Output

    output = Output(show=False)
    try:
        process = subprocess.Popen([sys.executable, "-c", "import os, sys\nfor _ in range(64): "
                                    "os.write(1, b'x' * (1 << 16))\nprint('the last line', flush=True)\n"
                                    "print(sorted(os.listdir('/proc/self/fd')))"],
                                   stdout=output.write_end, stderr=output.write_end)
    finally:
        output.started()
    process.wait()
    assert output.last_line() == "['0', '1', '2', '3']"  # stdin, the pipe twice, and listdir's own
    assert len(output.tail) == Output.TAIL_BYTES and output.dropped >= (4 << 20) - Output.TAIL_BYTES
    assert b"the last line" in output.tail


def _fake_cgroup_v2(root):
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma misc\n")
    (root / "cgroup.subtree_control").write_text("")
    return root


def test_cgroup_v2_limits_memory_processes_and_cpu_in_a_unified_tree(tmp_path, monkeypatch):
    """This machine has cgroup v1 only: the v2 path is exercised on a folder laid out like
    /sys/fs/cgroup on a unified host (cgroup.controllers at its root), where every knob is a plain file."""
    from grader.core import sandbox

    monkeypatch.delenv("KATA_NO_CGROUP", raising=False)
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 0)
    root = _fake_cgroup_v2(tmp_path / "cgroup")
    limits = sandbox.Limits(memory_bytes=3 << 30, processes=32, cpus=1.5)
    group = sandbox.CGroup(limits, root=root)
    (path,) = group.paths
    assert group.version == 2 and path.parent == root
    assert (root / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    knobs = {knob: (path / knob).read_text() for knob in sandbox.CGroup.V2_KNOBS}
    assert knobs == {"memory.max": str(3 << 30), "memory.swap.max": "0", "pids.max": "32",
                     "cpu.max": "150000 100000"}
    group.enter()
    assert (path / "cgroup.procs").read_text() == str(sandbox.os.getpid())
    sentence = sandbox.limits_sentence(limits, group)
    assert "3 GiB of memory, 32 processes and 1.5 CPUs" in sentence and "cgroup v2" in sentence
    passed_on = sandbox.CGroup.existing(group.paths, group.version)
    assert passed_on.active and not passed_on.owned


def test_cgroup_v1_uses_one_group_per_controller_and_says_which_knobs_it_could_write(tmp_path, monkeypatch):
    from grader.core import sandbox

    monkeypatch.delenv("KATA_NO_CGROUP", raising=False)
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 0)
    for controller in ("memory", "pids"):  # no cpu controller mounted here
        (tmp_path / controller).mkdir()
    group = sandbox.CGroup(sandbox.Limits(processes=16), root=tmp_path)
    assert group.version == 1 and [p.parent.name for p in group.paths] == ["memory", "pids"]
    assert group.applied == ["memory.limit_in_bytes", "pids.max"]
    assert (group.paths[1] / "pids.max").read_text() == "16"
    assert "cgroup v1: memory.limit_in_bytes, pids.max" in sandbox.limits_sentence(sandbox.Limits(), group)


def test_without_cgroups_the_row_says_the_limits_were_per_process(monkeypatch):
    from grader.core import sandbox

    monkeypatch.setenv("KATA_NO_CGROUP", "1")
    group = sandbox.CGroup(sandbox.Limits())
    assert not group.active
    sentence = sandbox.limits_sentence(sandbox.Limits(), group)
    assert "per process only" in sentence and "files of at most 64 MiB" in sentence
    assert ("RLIMIT_NPROC" in sentence) and ("counted by the judge" in sentence) == (not sandbox.nproc_applies())


def test_a_worker_cannot_write_a_file_larger_than_its_limit(tmp_path):
    import subprocess
    import sys

    from grader.core import sandbox

    limits = sandbox.Limits(file_bytes=1 << 20)
    code = ("import sys\ntry:\n    open('big', 'wb').write(b'x' * (4 << 20))\nexcept OSError as error:\n"
            "    print(error.errno)\n")
    completed = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                               preexec_fn=sandbox.preexec(limits, None))
    assert completed.stdout.strip() == "27" and (tmp_path / "big").stat().st_size == 1 << 20  # EFBIG


# --- the judge's time budgets ----------------------------------------------------------------------

LAYERS_TESTS = [f"tests/exercises/test_layers.py::{name}" for name in (
    "test_parameter_holds_data_and_a_zero_gradient_of_the_same_shape",
    "test_parameter_turns_integer_data_into_float64_and_keeps_float32",
    "test_a_new_layer_is_in_training_mode_and_calling_it_runs_forward")]


def _judged(tmp_path, monkeypatch, action: str) -> list:
    """The three first layers tests judged in a sandboxed worker, with a 1 s limit and a 2 s margin, against
    the reference whose first Parameter() of the first test runs ACTION."""
    import shutil

    from grader.core import judge, manifest

    monkeypatch.setenv("KATA_TEST_TIMEOUT", "1")
    monkeypatch.setattr(judge, "HARD_MARGIN_SECONDS", 2)
    target = tmp_path / "target"
    shutil.copytree(SOLUTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    with open(target / "layers.py", "a") as out:
        out.write(f"\n\nimport os as _os, time as _time\n_init = Parameter.__init__\n_acted = []\n\n\n"
                  f"def _slow_init(self, *args, **kwargs):\n"  # once: the first test makes several Parameters
                  f"    if '{LAYERS_TESTS[0].split('::')[1]}' in _os.environ.get('PYTEST_CURRENT_TEST', '') "
                  f"and not _acted:\n        _acted.append(1)\n"
                  f"        {action}\n    _init(self, *args, **kwargs)\n\n\nParameter.__init__ = _slow_init\n")
    kata = manifest.load()
    session = judge.WorkerSession(kata.exercise("layers"), target, list(LAYERS_TESTS),
                                  reference_modules=kata.reference_modules("layers")).start()
    try:
        return [session.result(nodeid)[1] for nodeid in LAYERS_TESTS]
    finally:
        session.close()


def test_a_test_slow_only_in_wall_time_is_not_failed_by_the_judge(tmp_path, monkeypatch):
    """Sleeping 6 s costs no CPU: past the old wall-clock limit (1 + 2 s), well within the CPU budget and
    its wall backstop (10 times as wide). A throttled worker on a busy machine is in the same case."""
    assert _judged(tmp_path, monkeypatch, "_time.sleep(6)") == [None, None, None]


def test_a_test_that_spins_where_no_signal_reaches_it_is_stopped_with_the_time_out_sentence(tmp_path, monkeypatch):
    """A loop inside one C call never lets the worker's own CPU-time signal run: the judge reads the
    worker's CPU time from /proc and ends it past 1 + 2 s of CPU; a fresh worker runs the other tests."""
    from grader.core import judge

    errors = _judged(tmp_path, monkeypatch, "sum(range(10 ** 13))")
    assert errors[0] == {"kind": "timeout", "message": judge.timeout_message(1), "where": None}, errors
    assert errors[1:] == [None, None], errors
