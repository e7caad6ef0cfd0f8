"""Which way the kata is running: the KATA_MODE of an exercise test (see grader/feedback/judge_plugin.py),
whether this is a student release, and how learner errors are located and reported. Plain constants and
small functions that every layer may read, so that none of them imports the judge's pytest plugin."""

from __future__ import annotations

import os
import re
from pathlib import Path


class ModeError(ValueError):
    """KATA_MODE names no mode."""


SPLIT, OBSERVE, JUDGE, LOCAL, ADVISORY = "split", "observe", "judge", "local", "advisory"
MODES = (SPLIT, OBSERVE, JUDGE, LOCAL, ADVISORY)
# pytest's plugins the exercise tests never use, off in the judge and its workers: a tenth of a worker's start.
PLUGINS_OFF = tuple(arg for name in ("cacheprovider", "doctest", "junitxml", "pastebin", "stepwise", "setuponly",
                                     "setupplan", "unittest", "unraisableexception", "threadexception", "subtests")
                    for arg in ("-p", f"no:{name}"))
RELEASE_MARK = Path("grader") / "RELEASE"  # written by `make release` (grader/instructor/release.py)


def is_release() -> bool:
    """A student release: no reference anywhere, so only advisory grading is possible. Told by the mark
    the release carries and by the absence of solutions/ together: a sandboxed worker sees only part of
    the reference (so a missing module is no sign), and a mark dropped into a full kata changes nothing."""
    from grader.core.manifest import ROOT, SOLUTIONS_DIR

    return (ROOT / RELEASE_MARK).is_file() and not SOLUTIONS_DIR.is_dir()


def kata_mode() -> str:
    mode = os.environ.get("KATA_MODE", SPLIT)
    if mode not in MODES:
        raise ModeError(f"KATA_MODE={mode!r}; expected one of {', '.join(MODES)}")
    return ADVISORY if is_release() else mode


# Set to 1 where memory is short (Gradescope's 768 MB): no worker starts before the previous one ended,
# which saves a worker's memory (about 230 MB) at the peak and costs the overlap of judging and starting.
ONE_WORKER_VAR = "KATA_ONE_WORKER_AT_A_TIME"
# Set by `make watch` for a judge it starts before the learner saves: collected and ready, the judge starts
# no worker (reads no learner file) until it reads "go" from the file descriptor this names.
WARM_VAR = "KATA_WAIT_FOR_GO"


def where_in_target(error: BaseException, target_dirs) -> str | None:
    """'layers.py line 42': the deepest frame of the error's traceback inside a target directory (the one
    helper every command uses to point at the learner's line)."""
    import traceback

    # walk_tb, not extract_tb: a judge calls this for every failed test, and extract_tb computes each frame's
    # columns (a quarter of the judge's time on a stub submission).
    prefixes = tuple(os.path.join(Path(directory), "") for directory in target_dirs)
    found = None
    for frame, line in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename.startswith(prefixes):
            found = f"{Path(frame.f_code.co_filename).name} line {line}"
    return found


def error_of(error: BaseException, target_dirs) -> dict:
    kind = type(error).__name__
    message = str(error)
    if kind == "Failed" and "Timeout" in message:
        # The kata's sentence, never pytest-timeout's: what a time-out usually means, and where it was.
        from grader.core.judge import timeout_message

        found = re.search(r">\s*([0-9.]+)\s*s", message)
        kind, message = "timeout", timeout_message(float(found.group(1)) if found else 0.0)
    elif not isinstance(error, AssertionError):
        message = f"{kind}: {message}"
    return {"kind": kind, "message": message.split("\nassert ")[0].strip()[:4000],
            "where": where_in_target(error, target_dirs)}
