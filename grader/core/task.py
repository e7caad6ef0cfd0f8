"""Run one function of learner-facing code in a sandboxed worker and talk to it in plain data.

`run_task("grader.milestones.skeleton:learn_task", inputs, target)` starts a worker (judge.start_worker)
that loads the learner's package, calls learn_task(modules, inputs, send) and sends back what it
returns. The judge sends the inputs (arrays and numbers: test images, settings; never what the learner
must not see, such as the test labels). Each `send(kind, value)` of the worker is an event the judge
answers (`on_message` returns the reply) and may time on arrival, from outside the worker; `deadline()`
says within how many seconds the next event must come.
Everything crosses as wire frames, validated on arrival.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from grader.core import sandbox, wire
from grader.core.judge import TARGET_MARK, kill_worker, signal_meaning, start_worker


class TaskFailed(Exception):
    """The learner's side ended without a result; the message says why in a sentence."""


def run_task(entry: str, inputs: dict, target: Path, *, timeout: float, on_message=None, deadline=None,
             on_start=None) -> object:
    """The learner side's result.

    on_message(kind, value) answers each event (its return value is the reply); deadline(), if
    given, is re-read after each event: seconds within which the next must arrive, else the worker is
    stopped and TaskFailed says so (as for any other end without a result). on_start(pid), if given, is
    called with the worker's process id as soon as it starts (to read its CPU time: ProcessTreeClock)."""
    _, cgroup = sandbox.limits_from_environment()
    scratch = Path(tempfile.mkdtemp(prefix="kata-task-"))
    try:
        submission = sandbox.copy_submission(Path(target), scratch / "submission")
        reference = sandbox.write_reference({}, scratch / "reference")  # the learner's package builds on itself
        channel_read, channel_write = os.pipe()
        input_read, input_write = os.pipe()
        process = start_worker(["--task", entry, TARGET_MARK], submission=submission, reference=reference,
                               scratch=scratch, channel_fd=channel_write, input_fd=input_read, env={},
                               limits=sandbox.Limits(), cgroup=cgroup, show_output=True)
        if on_start is not None:
            on_start(process.pid)
        os.close(channel_write)
        os.close(input_read)
        replies = os.fdopen(input_write, "wb")
        threading.Thread(target=_reply, args=(replies, inputs), daemon=True).start()
        try:
            return _collect(process, channel_read, timeout, on_message, deadline, replies)
        finally:
            with contextlib.suppress(OSError):  # the worker is gone: nothing left to flush to
                replies.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _reply(stream, value) -> None:
    packed = wire.encode_value(value)
    with contextlib.suppress(OSError, ValueError):  # the worker died before reading: its exit says why
        stream.write(wire.pack_message({"type": "reply", "value": packed.tree}, packed.arrays))
        stream.flush()


def _collect(process, channel_read: int, timeout: float, on_message, deadline, replies):
    started = time.monotonic()
    state = {"next": started + (deadline() if deadline else timeout), "late": False}
    threading.Thread(target=_watch, args=(process, started + timeout, state), daemon=True).start()
    failure, received = None, 0
    try:
        with os.fdopen(channel_read, "rb") as stream:
            while (message := wire.read_message(stream, wire.TASK_STREAM)) is not None:
                header, arrays = message
                received += sum(map(len, arrays))
                if received > wire.TASK_TOTAL_BYTES:
                    raise wire.WireError(f"its events brought more than {wire.TASK_TOTAL_BYTES >> 20} MiB in all")
                kind = header.get("type")
                value = wire.decode_value(wire.Packed(header.get("value"), arrays))
                if kind == "result":
                    return value  # the worker is stopped all the same (finally, below)
                if kind == "error":
                    failure = value if isinstance(value, dict) else {"message": str(value)}
                    break
                answer = on_message(kind, value) if on_message is not None else None
                if deadline is not None:
                    state["next"] = time.monotonic() + deadline()
                _reply(replies, answer)
    except (wire.WireError, EOFError) as error:
        failure = {"message": f"the learner side's messages were unreadable ({error})"}
    finally:
        state["done"] = True
        kill_worker(process)
        returncode = process.wait()
    if failure is not None:
        where = f" ({failure['where']})" if failure.get("where") else ""
        raise TaskFailed(f"{failure.get('message', 'it failed')}{where}")
    if state["late"]:
        raise TaskFailed(f"stopped after {time.monotonic() - started:.0f} s: the next event did not arrive in time")
    reason = signal_meaning(-returncode) if returncode and returncode < 0 else f"exit status {returncode}"
    tail = process.output.last_line()
    raise TaskFailed(f"the learner's process ended without a result ({reason}){': ' + tail if tail else ''}")


def _watch(process, end: float, state: dict) -> None:
    """Kill the worker past the overall end or past the deadline of its next event."""
    while not state.get("done") and process.poll() is None:
        if time.monotonic() > min(end, state["next"]):
            state["late"] = True
            kill_worker(process)
            return
        time.sleep(0.1)

