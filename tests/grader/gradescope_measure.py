"""Time and peak memory of run_autograder under Gradescope's default limits (half a CPU, 768 MB), as root.

Builds the zip, unpacks it into a temporary autograder root (source/ using this repository's .venv),
copies the submission, and runs run_autograder inside a cgroup v1 of 768 MB and a CPU quota of 50 ms per
100 ms (/sys/fs/cgroup/{memory,cpu}). Every process of the grade stays in that cgroup (KATA_NO_CGROUP:
the grader does not move its workers into cgroups of their own), so memory.max_usage_in_bytes is the
peak of the whole submission. `--sandbox uid` runs learner code as the unprivileged user without
namespaces, as in Gradescope's containers. Prints one JSON line: time, peaks and the results' score.

A maintainer's measurement (the README's Gradescope numbers come from it), not part of the grader:

    sudo .venv/bin/python tests/grader/gradescope_measure.py [--submission exercises] [--sandbox auto]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from grader.core.manifest import ROOT  # noqa: E402
from grader.core import target as targets  # noqa: E402
from grader.platforms.gradescope import build  # noqa: E402
from platform_support import unpack  # noqa: E402  (beside this file)

CGROUP = Path("/sys/fs/cgroup")
MEMORY_BYTES = 768 * 2**20
CPU_PERIOD_US, CPU_QUOTA_US = 100_000, 50_000


def make_cgroup() -> tuple[Path, Path]:
    name = f"kata-measure-{uuid.uuid4().hex[:8]}"
    memory, cpu = CGROUP / "memory" / name, CGROUP / "cpu" / name
    memory.mkdir()
    (memory / "memory.limit_in_bytes").write_text(str(MEMORY_BYTES))
    with contextlib.suppress(OSError):  # no escape into swap, where the kernel accounts swap at all
        (memory / "memory.memsw.limit_in_bytes").write_text(str(MEMORY_BYTES))
    cpu.mkdir()
    (cpu / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
    (cpu / "cpu.cfs_quota_us").write_text(str(CPU_QUOTA_US))
    return memory, cpu


def remove_cgroup(paths) -> None:
    for path in paths:
        for pid in (path / "cgroup.procs").read_text().split() if path.exists() else []:
            with contextlib.suppress(OSError):  # it ended by itself
                os.kill(int(pid), 9)
        time.sleep(0.2)
        with contextlib.suppress(OSError):
            path.rmdir()


def _resident(memory: Path) -> int:
    stat = dict(line.split() for line in (memory / "memory.stat").read_text().splitlines())
    return int(stat.get("total_rss", 0)) + int(stat.get("total_mapped_file", 0))


def measure(submission: Path, sandbox: str, venv: Path = ROOT / ".venv") -> dict:
    folder = Path(tempfile.mkdtemp(prefix="kata-measure-"))
    folder.chmod(0o755)
    memory, cpu = make_cgroup()
    try:
        unpack(build.build(folder / "autograder.zip"), folder / "source")
        (folder / "source" / ".venv").symlink_to(venv)
        (folder / "submission").mkdir()
        (folder / "results").mkdir()
        for path in submission.glob("*.py"):
            if path.name != "__init__.py":
                shutil.copyfile(path, folder / "submission" / path.name)
        env = dict(os.environ, AUTOGRADER_ROOT=str(folder), KATA_NO_CGROUP="1")
        env.pop("KATA_TARGET", None)
        if sandbox == "uid":
            env["KATA_SANDBOX"] = "uid"

        def enter() -> None:
            for path in (memory, cpu):
                (path / "cgroup.procs").write_text(str(os.getpid()))

        started = time.perf_counter()
        process = subprocess.Popen([str(folder / "source" / "run_autograder")], env=env, cwd=folder,
                                   preexec_fn=enter, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        peak_rss = 0
        while process.poll() is None:  # the peak of anonymous plus mapped memory (page cache excluded)
            peak_rss = max(peak_rss, _resident(memory))
            time.sleep(0.1)
        output = process.stdout.read()
        seconds = time.perf_counter() - started
        peak = int((memory / "memory.max_usage_in_bytes").read_text())
        failcnt = int((memory / "memory.failcnt").read_text())
        results = json.loads((folder / "results" / "results.json").read_text())
        isolation = next((t["output"] for t in results["tests"] if t["name"] == "Instructor: isolation"), "")
        return {"seconds": round(seconds, 1), "peak_resident_mb": round(peak_rss / 2**20),
                "peak_with_page_cache_mb": round(peak / 2**20), "limit_hits": failcnt, "score": results["score"],
                "isolation": isolation, "returncode": process.returncode,
                "stdout_tail": output.strip().splitlines()[-1:]}
    finally:
        remove_cgroup([memory, cpu])
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submission", default="solutions", help="exercises, solutions or a folder")
    parser.add_argument("--sandbox", choices=("uid", "auto"), default="uid")
    parser.add_argument("--venv", default=str(ROOT / ".venv"),
                        help="the virtual environment the autograder uses (in uid mode one whose Python the "
                             "unprivileged user can run, as on Gradescope where it lives under /usr)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0 or not (CGROUP / "memory").is_dir():
        print("measure: needs root and cgroup v1 (/sys/fs/cgroup/memory and cpu).", file=sys.stderr)
        return 2
    submission = targets.resolve(args.submission)
    print(json.dumps(measure(submission, args.sandbox, Path(args.venv))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
