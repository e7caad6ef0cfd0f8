"""Run one function of learner-facing code in a sandboxed worker and talk to it in plain data.

`run_task("grader.milestones.mnist:learner_half", inputs, target)` starts a worker (judge.start_worker)
that loads the learner's package, calls learner_half(modules, inputs, send) and sends back what it
returns. The judge sends the inputs (arrays and numbers: training images, test images, settings; never
what the learner must not see, such as the test labels), receives progress messages as they come (each
timestamped on arrival, so the judge times the learner's training from outside the worker), and decides
from the result. Everything crosses as wire frames, validated on arrival.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

from grader.core import sandbox, wire
from grader.core.judge import TARGET_MARK, copy_submission, signal_meaning, start_worker


class TaskFailed(Exception):
    """The learner's side ended without a result; the message says why in a sentence."""


def run_task(entry: str, inputs: dict, target: Path, *, timeout: float, on_message=None,
             reference_modules: tuple[str, ...] = (), limits: sandbox.Limits | None = None) -> tuple[object, list]:
    """(the learner side's result, [(seconds since start, kind, value) for every message]).

    on_message(seconds, kind, value) is called as each progress message arrives; raising StopIteration
    from it stops the worker (the judge's budget ran out). Raises TaskFailed with the reason otherwise."""
    limits = limits or sandbox.Limits()
    _, cgroup = sandbox.limits_from_environment()
    scratch = Path(tempfile.mkdtemp(prefix="kata-task-"))
    try:
        submission = copy_submission(Path(target), scratch / "submission")
        reference = sandbox.stage_reference(list(reference_modules), scratch / "reference")
        channel_read, channel_write = os.pipe()
        input_read, input_write = os.pipe()
        process = start_worker(["--task", entry, TARGET_MARK], submission=submission, reference=reference,
                               scratch=scratch, channel_fd=channel_write, input_fd=input_read, env={},
                               limits=limits, cgroup=cgroup)
        os.close(channel_write)
        os.close(input_read)
        packed = wire.encode_value(inputs)
        writer = threading.Thread(target=_write_inputs, args=(input_write, packed), daemon=True)
        writer.start()
        return _collect(process, channel_read, timeout, on_message, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _write_inputs(fd: int, packed: wire.Packed) -> None:
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(wire.pack_message({"type": "inputs", "value": packed.tree}, packed.arrays))
    except OSError:
        pass  # the worker died before reading: its exit says why


def _collect(process, channel_read: int, timeout: float, on_message, scratch: Path):
    started = time.monotonic()
    timer = threading.Timer(timeout, lambda: _kill(process))
    timer.start()
    messages, result, failure = [], None, None
    try:
        with os.fdopen(channel_read, "rb") as stream:
            while True:
                message = wire.read_message(stream)
                if message is None:
                    break
                header, arrays = message
                kind = header.get("type")
                value = wire.decode_value(wire.Packed(header.get("value"), arrays))
                seconds = time.monotonic() - started
                if kind == "result":
                    result = ("result", value)
                    break
                if kind == "error":
                    failure = value if isinstance(value, dict) else {"message": str(value)}
                    break
                messages.append((seconds, kind, value))
                if on_message is not None:
                    try:
                        on_message(seconds, kind, value)
                    except StopIteration:
                        _kill(process)
                        raise
    except (wire.WireError, EOFError) as error:
        failure = {"message": f"the learner side's messages were unreadable ({error})"}
    finally:
        timer.cancel()
        _kill(process)
        returncode = process.wait()
    if result is not None:
        return result[1], messages
    if failure is not None:
        where = f" ({failure['where']})" if failure.get("where") else ""
        raise TaskFailed(f"{failure.get('message', 'it failed')}{where}")
    if time.monotonic() - started >= timeout:
        raise TaskFailed(f"stopped after {timeout:g} s")
    reason = signal_meaning(-returncode) if returncode and returncode < 0 else f"exit status {returncode}"
    tail = (scratch / "worker.log").read_text(errors="replace").strip().splitlines()[-1:] if \
        (scratch / "worker.log").exists() else []
    raise TaskFailed(f"the learner's process ended without a result ({reason}){': ' + tail[0] if tail else ''}")


def _kill(process) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            process.kill()
