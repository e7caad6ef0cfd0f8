"""The judge's side of a worker: start it in the sandbox, read its frames, survive whatever it does.

A `WorkerSession` runs one exercise's tests against one target in a worker process (worker.py) and
collects the observations it reports per test; the judge's pytest items ask for them with
`result(nodeid)` and decide (feedback/judge_plugin.py). A test that hangs past its limit gets a time-out
(the worker and all it started are killed), a worker's death goes to the test that was running, and a
fresh worker carries on with the rest: a hang, a crash or a stray thread costs that test, never the row.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from grader.core import sandbox, seeds, wire
from grader.core.manifest import Exercise, ROOT

TIMEOUT_ADVICE = "an infinite loop, or a Python loop over samples where a vectorised NumPy expression is needed"
# The judge's budgets count the worker tree's CPU time (sandbox.ProcessTreeClock), which a busy machine
# barely changes; without /proc (macOS) they are wall clock.
HARD_MARGIN_SECONDS = 30    # CPU seconds beyond a test's own limit (cpu_limit.py, in the worker) before the kill
EXERCISE_BUDGET_TESTS = 20  # an exercise's run may use this many per-test limits (+ the margin); then the rest fail
WALL_FACTOR = 10            # a wall-clock backstop this many times as wide stops code that waits (a sleep, a lock)
# A test whose worker gains no CPU time for this long waits for something that never comes (input(), a sleep,
# a lock): on a busy machine a runnable process still gets a share of a core every few hundred ms, so only a
# wait looks like this. It is stopped then, not after the WALL_FACTOR backstop, so a hang costs one test.
IDLE_SECONDS = 10
IDLE_CPU_SECONDS = 0.01


def cpu_budget(limit: float) -> float:
    """CPU seconds one test may use before the judge kills its worker; its wall backstop is WALL_FACTOR times."""
    return limit + HARD_MARGIN_SECONDS


def mark(name: str, when: float | None = None) -> None:
    """Note when a phase of a check ends (KATA_PHASES names the file; `python -m grader bench --phases`)."""
    if os.environ.get("KATA_PHASES"):
        with open(os.environ["KATA_PHASES"], "a") as marks:
            marks.write(f"{time.monotonic() if when is None else when} {name}\n")


def signal_meaning(number: int) -> str:
    meanings = {
        signal.SIGXCPU: "the CPU time limit was reached: an infinite loop, or far too much work",
        signal.SIGKILL: "killed: out of memory, or over a time limit",
        signal.SIGSEGV: "a crash in native code, often from running out of memory",
        signal.SIGABRT: "aborted, often from running out of memory",
    }
    return f"signal {number}: " + meanings.get(number, "killed by the system")


def ended_abruptly(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        return f"the test process ended abruptly ({signal_meaning(-returncode)})"
    return f"the test process ended abruptly (exit status {returncode}: does the code call exit() or os._exit()?)"


def timeout_message(seconds: float) -> str:
    return f"timed out after {seconds:g} s: {TIMEOUT_ADVICE}"


TARGET_MARK = "{submission}"  # replaced by where the submission is, inside or outside the sandbox


class Output:
    """A worker's stdout and stderr, read by the judge through a pipe: the last TAIL_BYTES are kept (the
    line that explains a crash), and with `show` the first SHOWN_BYTES are echoed to this process's
    terminal (a milestone's progress bar). The rest is dropped: no descriptor of a host file reaches the
    worker (pytest's saved descriptors included), so its prints cannot fill the host's disk."""

    TAIL_BYTES = 16 << 10
    SHOWN_BYTES = 4 << 20

    def __init__(self, show: bool):
        self.read_end, self.write_end = os.pipe()
        self.show, self.tail, self.shown, self.dropped = show, b"", 0, 0
        self._thread = threading.Thread(target=self._drain, daemon=True)

    def started(self) -> None:
        os.close(self.write_end)
        self._thread.start()

    def _drain(self) -> None:
        with os.fdopen(self.read_end, "rb", buffering=0) as pipe:
            while chunk := pipe.read(1 << 16):
                if self.show and self.shown < self.SHOWN_BYTES:
                    sys.stdout.buffer.write(chunk[: self.SHOWN_BYTES - self.shown])
                    sys.stdout.flush()
                    self.shown += len(chunk)
                self.dropped += max(0, len(self.tail) + len(chunk) - self.TAIL_BYTES)
                self.tail = (self.tail + chunk)[-self.TAIL_BYTES:]

    def last_line(self) -> str:
        self._thread.join(timeout=2)
        lines = self.tail.decode(errors="replace").strip().splitlines()
        return lines[-1][:500] if lines else ""


def start_worker(arguments: list[str], *, submission: Path, reference: Path, scratch: Path, channel_fd: int,
                 env: dict, limits: sandbox.Limits, cgroup=None, input_fd: int | None = None,
                 show_output: bool = False) -> subprocess.Popen:
    """Start `python -m grader.core.worker ARGUMENTS` on a copy of the submission, in the sandbox when there
    is one; it writes its frames to channel_fd (and reads the judge's inputs from input_fd), and its prints
    go to `process.output` (an Output, echoed to this terminal with show_output)."""
    kind = sandbox.isolation().kind
    inside = "/submission" if kind == sandbox.BUBBLEWRAP else str(submission)
    command = [sys.executable, "-B", "-m", "grader.core.worker",
               *[inside if a == TARGET_MARK else a for a in arguments]]
    env = sandbox.worker_environment(dict(env, KATA_CHANNEL_FD=str(channel_fd), PYTHONPATH=str(ROOT)))
    if input_fd is not None:
        env["KATA_INPUT_FD"] = str(input_fd)
    if kind == sandbox.BUBBLEWRAP:
        command, env = sandbox.bubblewrap_command(command, target=submission, reference=reference, env=env), {}
    elif kind == sandbox.UID:
        # No namespaces: the worker reads its exercise's reference modules from its own scratch copy, which
        # belongs to the unprivileged user: its only writable place.
        env.update(HOME=str(scratch), TMPDIR=str(scratch), KATA_REFERENCE_DIR=str(reference))
        for path in [scratch, *scratch.rglob("*")]:
            os.chown(path, sandbox.UNPRIVILEGED, sandbox.UNPRIVILEGED)
    else:
        env = {**os.environ, **env, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        env.pop("KATA_TARGET", None)
    output = Output(show_output)
    try:
        process = subprocess.Popen(command, cwd=scratch, env=env, stdin=subprocess.DEVNULL,
                                   stdout=output.write_end, stderr=output.write_end,
                                   pass_fds=[fd for fd in (channel_fd, input_fd) if fd is not None],
                                   preexec_fn=sandbox.preexec(limits, cgroup))
    finally:
        output.started()
    process.output = output
    return process


class WorkerSession:
    """One exercise's tests against one target, in a sandboxed worker; see the module docstring."""

    def __init__(self, exercise: Exercise, target: Path, nodeids: list[str], *, reference_modules: list[str],
                 seed: int | None = None, limits: sandbox.Limits | None = None, cgroup=None, ready=None):
        self.exercise, self.target, self.pending = exercise, Path(target), list(nodeids)
        self.reference_modules = reference_modules
        self.seed = seeds.current() if seed is None else seed
        self.limits, self.cgroup = limits or sandbox.Limits(), cgroup
        self.ready = ready  # a zygote.ReadyWorker to fork workers from (bubblewrap only), else each is started
        self.results: dict[str, tuple[list, dict | None]] = {}
        self.problem: str | None = None  # a whole-run problem, e.g. the test file could not be collected
        self.received = 0  # bytes of arrays reported so far (wire.SESSION_BYTES)
        self._done, self._finished, self._process = threading.Condition(), False, None
        self._thread = threading.Thread(target=self._run, name=f"worker-{exercise.name}", daemon=True)
        self._scratch = Path(tempfile.mkdtemp(prefix="kata-worker-"))

    def start(self) -> "WorkerSession":
        if not self._thread.is_alive() and not self._finished:
            self._thread.start()
        return self

    def result(self, nodeid: str) -> tuple[list, dict | None]:
        """The worker's observations and error for one test, waiting for them if needed."""
        self.start()
        with self._done:
            while nodeid not in self.results and not self._finished:
                self._done.wait(timeout=1.0)
        if nodeid in self.results:
            return self.results[nodeid]
        reason = self.problem or "the worker never ran this test"
        return [], {"kind": "crash", "message": reason, "where": None}

    def close(self) -> None:
        self._kill()
        sandbox.kill_unprivileged()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        shutil.rmtree(self._scratch, ignore_errors=True)

    def _record(self, nodeid: str, observations: list, error: dict | None) -> None:
        with self._done:
            if nodeid not in self.results:
                self.results[nodeid] = (observations, error)
                if nodeid in self.pending:
                    self.pending.remove(nodeid)
                    if not self.pending:
                        mark("tests done")  # the judge may end the worker before its "finish" frame
            self._done.notify_all()

    def _run(self) -> None:
        try:
            # Staged when a worker is started rather than forked (zygote.py sends the references itself).
            reference = functools.cache(lambda: sandbox.write_reference(
                sandbox.reference_sources(self.reference_modules), self._scratch / "reference"))
            submission = functools.cache(lambda: sandbox.copy_submission(self.target, self._scratch / "submission"))
            self._budget = HARD_MARGIN_SECONDS + EXERCISE_BUDGET_TESTS * self.exercise.time_limit
            self._deadline = time.monotonic() + (WALL_FACTOR if os.path.isdir("/proc") else 1) * self._budget
            self._cpu_before, self._exhausted = 0.0, False  # CPU seconds of the workers that ended
            while self.pending and not self._exhausted and time.monotonic() < self._deadline:
                before = len(self.pending)
                forked = self._one_worker(submission, reference)
                if len(self.pending) == before and forked:  # a forked worker that could not start: start one
                    self.ready = None
                elif len(self.pending) == before:  # no progress: the rest cannot run
                    self.problem = self.problem or "the tests could not start in the worker"
                    break
            kind = "timeout" if self._exhausted or time.monotonic() >= self._deadline else "crash"
            for nodeid in list(self.pending):  # out of time, or unable to start: the rest fail with the reason
                self._record(nodeid, [], {"kind": kind, "message": self.problem or "not run", "where": None})
        except Exception as error:  # noqa: BLE001 - a judge-side failure must still end every wait
            self.problem = f"the grader could not run the worker: {error}"
        finally:
            with self._done:
                self._finished = True
                self._done.notify_all()

    def _one_worker(self, submission, reference) -> bool:
        """One worker for the pending tests (True if it was forked); submission() and reference() stage its
        folders when it is started instead."""
        read_end, write_end = os.pipe()
        # Room for every test's frames (Linux): the worker never waits while PyTorch's import holds the GIL.
        with contextlib.suppress(AttributeError, OSError):
            fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 1 << 20)
        nodeids = [str(ROOT / nodeid) for nodeid in self.pending]  # the worker runs in a scratch folder
        env = {"KATA_MODE": "observe", seeds.ENV_VAR: str(self.seed),
               "KATA_TEST_TIMEOUT": f"{self.exercise.time_limit:g}"}
        arguments = ["-p", "no:randomly", "--target", TARGET_MARK, *nodeids]
        try:
            forked = self.ready and self.ready.spawn(arguments, env, self.reference_modules, write_end, self.limits)
            self._process = forked or start_worker(arguments, submission=submission(), reference=reference(),
                                                   scratch=self._scratch, channel_fd=write_end, env=env,
                                                   limits=self.limits, cgroup=self.cgroup)
        finally:
            os.close(write_end)
        state = {"current": None, "started": 0.0, "killed_for": None}
        watchdog = threading.Thread(target=self._watch, args=(state,), daemon=True)
        watchdog.start()
        with os.fdopen(read_end, "rb") as stream:
            finished = self._read(stream, state)
        try:  # a worker that ended by itself (os._exit, a crash) keeps its exit status for the message
            returncode = self._process.wait(timeout=0.2 if finished else 5)
        except subprocess.TimeoutExpired:
            self._kill()  # a worker with a stray thread may not exit by itself; its tests are all reported
            returncode = self._process.wait()
        state["done"] = True
        watchdog.join()  # it adds this worker's CPU time to the exercise's
        self._settle(state, returncode)
        return getattr(self._process, "forked", False)

    def _read(self, stream, state: dict) -> bool:
        """Read frames until the stream ends; True when the worker said it finished. A frame that breaks
        the protocol or its bounds (wire.read_message, wire.SESSION_BYTES) ends the worker at once."""
        try:
            while (message := wire.read_message(stream, wire.TEST_STREAM)) is not None:
                header, arrays = message
                self.received += sum(map(len, arrays))
                if self.received > wire.SESSION_BYTES:
                    raise wire.WireError(f"its reports brought more than {wire.SESSION_BYTES >> 20} MiB in all")
                kind = header.get("type")
                if kind == "start" and isinstance(header.get("nodeid"), str):
                    if not self.results:
                        mark("worker ready")
                    state["current"], state["started"] = header["nodeid"], time.monotonic()
                elif kind == "test":
                    nodeid, observations, error = wire.unpack_observations(header, arrays)
                    state["current"] = None if state["current"] == nodeid else state["current"]
                    self._record(nodeid, observations, error)
                elif kind == "collect_error":
                    last = (str(header.get("message") or "").strip().splitlines() or ["(no message)"])[-1]
                    self.problem = f"the test file could not be collected: {last}"
                elif kind == "finish":
                    mark("tests done")
                    return True
        except (wire.WireError, EOFError) as error:
            self._kill()
            self.problem = f"the worker's report was unreadable ({error}); its remaining tests count as failed"
            for nodeid in list(self.pending):
                self._record(nodeid, [], {"kind": "crash", "message": self.problem, "where": None})
        return False

    def _watch(self, state: dict) -> None:
        limit = cpu_budget(self.exercise.time_limit)
        counted = not (self.cgroup is not None and self.cgroup.active)  # else the cgroup's pids.max holds
        clock, cpu, cpu_at_start = sandbox.ProcessTreeClock(self._process.pid), 0.0, 0.0
        active = [None, 0.0, time.monotonic()]  # the test, and the CPU reading and time it last computed at
        while not state.get("done") and self._process.poll() is None:
            tree = sandbox.process_tree(self._process.pid)  # read once a tick: counted, and its CPU time
            if counted and len(tree) > self.limits.processes:
                state["killed_for"] = (state["current"], f"it started more than {self.limits.processes} "
                                       "processes, the limit (a fork bomb?)")
                self._kill()
                break
            current, reading, now = state["current"], clock.read(tree), time.monotonic()
            if reading is not None:  # the tree's CPU time; a test's starts at the first reading that sees it
                cpu = max(cpu, *reading)
                cpu_at_start = cpu if current != active[0] else cpu_at_start
                if cpu > active[1] + IDLE_CPU_SECONDS or current != active[0]:
                    active = [current, cpu, now]
            idle = reading is not None and now - active[2] > IDLE_SECONDS
            wall_limit = limit if reading is None else WALL_FACTOR * limit
            if current and (idle or cpu - cpu_at_start > limit or now - state["started"] > wall_limit):
                state["killed_for"], state["idle"] = current, idle
                self._kill()
                break
            if now > self._deadline or self._cpu_before + cpu > self._budget:
                self._exhausted = True
                self.problem = (f"the exercise's tests used up their time budget ({self._budget:g} s of CPU "
                                f"time, or {WALL_FACTOR * self._budget:g} s in all): {TIMEOUT_ADVICE}")
                state["killed_for"] = current
                self._kill()
                break
            time.sleep(0.2)
        self._cpu_before += cpu

    def _settle(self, state: dict, returncode: int) -> None:
        current = state["current"]
        if current is None or current in self.results:
            return
        if state["killed_for"] == current:
            message = (f"timed out: it waited {IDLE_SECONDS:g} s without computing anything (input(), time.sleep, "
                       "or a lock that is never released?)" if state.get("idle")
                       else timeout_message(self.exercise.time_limit))
            error = {"kind": "timeout", "message": message, "where": None}
        elif type(state["killed_for"]) is tuple:  # over the process limit (_watch)
            error = {"kind": "crash", "message": f"the test process was ended: {state['killed_for'][1]}", "where": None}
        else:
            error = {"kind": "crash", "message": ended_abruptly(returncode), "where": None}
        self._record(current, [], error)

    def _kill(self) -> None:
        kill_worker(self._process, self.cgroup)


def kill_worker(process, cgroup=None) -> None:
    """Kill a started worker and every process of its group; without a cgroup, a process that left the
    group is found by its ancestry."""
    if process is not None and process.poll() is None:
        for pid in sandbox.process_tree(process.pid) if not cgroup or not cgroup.active else ():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            process.kill()
