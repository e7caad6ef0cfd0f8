"""The worker: runs one exercise's tests against the learner's code and reports observations, nothing else.

    python -m grader.core.worker TEST_FILE --target DIR [NODEID ...]

It is pytest in observe mode (feedback/judge_plugin.py) with this module as a plugin that sends, on the
file descriptor KATA_CHANNEL_FD, a frame when a test starts, one with its observations (or its error, when
a fixture such as the import of the learner's module failed) when it ends, and one at the end; the judge
computes every verdict. Inside the sandbox it sees no reference for its exercise, no PyTorch, no other
submission.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

from grader.core import target as targets
from grader.core import wire
from grader.core.mode import PLUGINS_OFF, error_of

_CHANNEL = None

def _send(frame: bytes) -> None:
    # A write to a pipe that a signal interrupts may write only part of a large frame (a debugger's or a
    # profiler's stop, a learner's timer): the rest follows, or the judge would read a broken stream.
    unsent = memoryview(frame)
    while unsent:
        unsent = unsent[_CHANNEL.write(unsent):]


def pytest_configure(config):
    config.kata_send = _send


def pytest_runtest_logstart(nodeid, location):
    _send(wire.pack_message({"type": "start", "nodeid": nodeid}, []))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.when == "setup" and report.failed and call.excinfo is not None:
        error = error_of(call.excinfo.value, getattr(item.config, "kata_targets", []))
        error["phase"] = "setup"  # before the scenario: typically the learner's module failed to import
        _send(wire.pack_observations(item.nodeid, [], error))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    # Every report is sent: end here, before pytest's teardown (its repeated garbage collections cost a tenth
    # of a worker's time) and before any thread the learner's code left behind can write another line.
    _send(wire.pack_message({"type": "finish", "status": int(exitstatus)}, []))
    sys.stderr.flush()
    os._exit(0)


def pytest_collectreport(report):
    if report.failed:
        _send(wire.pack_message({"type": "collect_error", "message": str(report.longrepr)[-3000:]}, []))


def run_task(entry: str, target: str) -> int:
    """`--task module:function TARGET`: call function(modules, inputs, send) on the learner's package (the
    milestones, core/task.py). The judge's inputs arrive as one frame on KATA_INPUT_FD; `send(kind, value)`
    sends an event and returns the judge's reply, and the function's result is the last frame."""
    module_name, _, function_name = entry.partition(":")
    replies = os.fdopen(int(os.environ["KATA_INPUT_FD"]), "rb")

    def receive():
        header, arrays = wire.read_message(replies, {"reply": 1 << 40})  # from the judge
        return wire.decode_value(wire.Packed(header["value"], arrays))

    inputs = dict(receive(), target_dir=target)

    def send(kind: str, value):
        """One event to the judge; returns the judge's reply (a result or an error ends the exchange)."""
        packed = wire.encode_value(value)
        _send(wire.pack_message({"type": kind, "value": packed.tree}, packed.arrays))
        return None if kind in ("result", "error") else receive()

    try:
        modules = targets.Modules(targets.load_package(targets.resolve(target), own=None))
        function = getattr(importlib.import_module(module_name), function_name)
        send("result", function(modules, inputs, send))
    except BaseException as error:  # noqa: BLE001 - the learner's failure is the report
        send("error", error_of(error, [Path(target)]))
    return 0


def main(argv: list[str]) -> int:
    from grader.core import worker as plugin  # this file runs as __main__; pytest needs the module

    plugin._CHANNEL = os.fdopen(int(os.environ["KATA_CHANNEL_FD"]), "wb", buffering=0)
    sys.stdout = sys.stderr  # the learner's prints must not mix with anything the judge reads
    if argv[:1] == ["--task"]:
        return plugin.run_task(argv[1], argv[2])
    os.environ["KATA_MODE"] = "observe"
    code = pytest.main([*argv, "-q", "--no-header", *PLUGINS_OFF], plugins=[plugin])
    plugin._send(wire.pack_message({"type": "finish", "status": int(code)}, []))  # pytest ended before its session
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
