"""The machinery every exercise relies on, part three: the worker's frames, its output and its limits
(grader/core/wire.py, judge.py, sandbox.py), and the judge's time budgets."""

from __future__ import annotations

import numpy as np
import pytest

from grader.core import sandbox
from grader.core.manifest import SOLUTIONS_DIR


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


def _judged(tmp_path, monkeypatch, action: str, forked: bool = False) -> list:
    """The three first layers tests judged in a sandboxed worker (forked from a ready process: zygote.py),
    with a 1 s limit and a 2 s margin, against the reference whose first Parameter() of the first test runs
    ACTION."""
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
    ready = None
    if forked:
        from grader.core.zygote import ReadyWorker

        ready = ReadyWorker(target, tmp_path / "ready", sandbox.Limits())
    session = judge.WorkerSession(kata.exercise("layers"), target, list(LAYERS_TESTS), ready=ready,
                                  reference_modules=kata.reference_modules("layers")).start()
    try:
        return [session.result(nodeid)[1] for nodeid in LAYERS_TESTS]
    finally:
        session.close()
        if ready is not None:
            ready.close()


FORKED = pytest.mark.parametrize("forked", [False, pytest.param(True, marks=pytest.mark.skipif(
    sandbox.isolation().kind != sandbox.BUBBLEWRAP, reason="only bubblewrap forks workers"))])


@FORKED
def test_a_test_slow_only_in_wall_time_is_not_failed_by_the_judge(tmp_path, monkeypatch, forked):
    """Sleeping 6 s costs no CPU: past the old wall-clock limit (1 + 2 s), well within the CPU budget and
    its wall backstop (10 times as wide). A throttled worker on a busy machine is in the same case."""
    assert _judged(tmp_path, monkeypatch, "_time.sleep(6)", forked) == [None, None, None]


@FORKED
def test_a_test_that_spins_where_no_signal_reaches_it_is_stopped_with_the_time_out_sentence(tmp_path, monkeypatch,
                                                                                           forked):
    """A loop inside one C call never lets the worker's own CPU-time signal run: the judge reads the
    worker's CPU time from /proc and ends it past 1 + 2 s of CPU; a fresh worker runs the other tests."""
    from grader.core import judge

    errors = _judged(tmp_path, monkeypatch, "sum(range(10 ** 13))", forked)
    assert errors[0] == {"kind": "timeout", "message": judge.timeout_message(1), "where": None}, errors
    assert errors[1:] == [None, None], errors


# --- workers forked from the ready process (grader/core/zygote.py) ----------------------------------------

PROBE = '''

import os as _os, subprocess as _subprocess
_subprocess.Popen(["sleep", "301.5"], start_new_session=True)  # left behind: must end with the worker
_writable = []
for _folder in ("/", "/dev", "/submission", "/work"):
    try:
        open(_os.path.join(_folder, "probe"), "w").close()
        _writable.append(_folder)
    except OSError:
        pass
_depth = len(next(line for line in open("/proc/self/status") if line.startswith("NSpid:")).split()) - 1
raise RuntimeError(f"PROBE depth={_depth} writable={_writable} references={sorted(_os.listdir(%r))}")
'''


@pytest.mark.skipif(sandbox.isolation().kind != sandbox.BUBBLEWRAP, reason="only bubblewrap forks workers")
def test_a_forked_worker_sees_only_its_references_writes_nothing_shared_and_leaves_nothing_behind(tmp_path):
    import shutil
    import subprocess
    import time

    from grader.core import judge, manifest
    from grader.core.zygote import ReadyWorker

    target = tmp_path / "target"
    shutil.copytree(SOLUTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    with open(target / "layers.py", "a") as out:
        out.write(PROBE % str(SOLUTIONS_DIR))
    kata = manifest.load()
    ready = ReadyWorker(target, tmp_path / "ready", sandbox.Limits())
    session = judge.WorkerSession(kata.exercise("layers"), target, list(LAYERS_TESTS[:1]), ready=ready,
                                  reference_modules=kata.reference_modules("layers")).start()
    try:
        message = session.result(LAYERS_TESTS[0])[1]["message"]
    finally:
        session.close()
    # PIDs in the ready process's namespace and in its own: forked, not started by bubblewrap alone (one).
    assert "depth=2 writable=[] references=['__init__.py', 'init.py']" in message, message
    deadline = time.monotonic() + 10
    while subprocess.run(["pgrep", "-f", "sleep 301.5"], capture_output=True).returncode == 0:
        assert time.monotonic() < deadline, "a process the worker started outlived it"
        time.sleep(0.2)
    ready.close()


@pytest.mark.skipif(sandbox.isolation().kind != sandbox.BUBBLEWRAP, reason="only bubblewrap forks workers")
def test_without_a_ready_process_workers_are_started_as_before(tmp_path, monkeypatch):
    """A platform whose bubblewrap refuses the ready process's capability still grades: each worker is
    started by bubblewrap alone."""
    from grader.core import judge, manifest
    from grader.core.zygote import ReadyWorker

    monkeypatch.setattr(sandbox, "bubblewrap_command", lambda command, **_: ["false"])
    ready = ReadyWorker(SOLUTIONS_DIR, tmp_path / "ready", sandbox.Limits())
    monkeypatch.undo()
    assert not ready.ready()
    kata = manifest.load()
    session = judge.WorkerSession(kata.exercise("layers"), SOLUTIONS_DIR, list(LAYERS_TESTS), ready=ready,
                                  reference_modules=kata.reference_modules("layers")).start()
    try:
        assert [session.result(nodeid)[1] for nodeid in LAYERS_TESTS] == [None, None, None]
    finally:
        session.close()
        ready.close()


def test_a_frame_is_sent_whole_when_the_pipe_takes_it_in_pieces(monkeypatch):
    """A write to a pipe interrupted by a signal (a profiler's stop, a learner's timer) returns after
    part of the frame: the worker sends the rest (it once lost it, and the judge read a broken stream)."""
    from grader.core import wire, worker

    class Trickle:
        def __init__(self):
            self.received = b""

        def write(self, data) -> int:
            self.received += bytes(data[:3])
            return min(3, len(data))

    channel = Trickle()
    monkeypatch.setattr(worker, "_CHANNEL", channel)
    frame = wire.pack_message({"type": "start", "nodeid": "tests/x.py::test_y"}, [])
    worker._send(frame)
    assert channel.received == frame
