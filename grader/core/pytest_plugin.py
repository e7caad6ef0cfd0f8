"""A pytest plugin that records each test's outcome as JSON lines, for the grader.

Loaded with `-p grader.core.pytest_plugin`; writes to the file named by KATA_RESULTS. A line is written when
a test starts and when it ends, so if learner code kills the interpreter (os._exit, a segfault, the
memory limit) the grader still knows which test was running.
"""

from __future__ import annotations

import json
import os

import pytest

from grader.core.mode import error_of

_PATH = os.environ.get("KATA_RESULTS")


def _write(record: dict) -> None:
    if not _PATH:
        return
    with open(_PATH, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
        handle.flush()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    target_dirs = getattr(item.config, "kata_targets", [])
    callspec = getattr(item, "callspec", None)
    target = callspec.params.get("target_dir") if callspec is not None else None
    if target is None and target_dirs:
        target = target_dirs[0]
    marker = item.get_closest_marker("part")
    report.kata = {"test": item.name, "target": str(target), "part": marker.args[0] if marker and marker.args else None,
                   "fact": item.get_closest_marker("fact") is not None, "kinds": getattr(item, "kata_kinds", None)}
    if call.excinfo is not None and report.failed:
        error = call.excinfo.value
        report.kata.update(error_of(error, target_dirs))
        # checks.WorkerFailure carries the learner's error class and line, found in the worker.
        if isinstance(getattr(error, "kind", None), str):
            report.kata["kind"] = error.kind
        report.kata["where"] = getattr(error, "where", None) or report.kata["where"]
        # The worker failed before the scenario ran (an import error): an error, as in a plain pytest run.
        report.kata["setup_error"] = getattr(error, "phase", None) == "setup"


def pytest_runtest_logstart(nodeid, location):
    _write({"event": "start", "nodeid": nodeid})


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and not report.passed):
        info = getattr(report, "kata", {})
        outcome = report.outcome
        if (report.when == "setup" and report.failed) or info.get("setup_error"):
            outcome = "error"
        message = info.get("message", "")
        if report.skipped:  # the reason alone ('not checked here ...'), not pytest's (file, line, text) tuple
            skip = report.longrepr
            message = (skip[2] if isinstance(skip, tuple) and len(skip) == 3 else str(skip)).removeprefix("Skipped: ")
        _write({"event": "result", "nodeid": report.nodeid, "test": info.get("test", report.nodeid.split("::")[-1]),
                "target": info.get("target"), "outcome": outcome, "message": message, "kind": info.get("kind", ""),
                "where": info.get("where"), "part": info.get("part"), "fact": info.get("fact", False),
                "kinds": info.get("kinds")})


def pytest_collectreport(report):
    if report.failed:
        _write({"event": "collect_error", "nodeid": report.nodeid, "message": str(report.longrepr)[-2000:]})


def pytest_sessionfinish(session, exitstatus):
    _write({"event": "finish", "exitstatus": int(exitstatus)})
