"""Where learner code runs: a sandbox it cannot see out of, or the weaker fallbacks, said plainly.

`isolation()` picks, once per process, the strongest mechanism this machine allows:

  bubblewrap  Linux user, mount, PID, network and IPC namespaces (Debian package `bubblewrap`). The
              worker sees a read-only view of the Python installation, the grader and the tests (not the
              mutant banks), the submission, and only the reference modules its exercise's tests load as
              dependencies; a private /tmp is its only writable place. It cannot see other processes,
              other submissions, PyTorch, the MNIST test labels or the instructor's files, and every
              process it starts dies with it (its PID namespace ends with the worker).
  uid         as root where namespaces are refused (a course platform's container): the worker runs as
              an unprivileged user (uid 65534, no new privileges) in a scratch folder of its own. It cannot
              write the kata, read anything private to root (KATA_PRIVATE_DIRS, e.g. the reference, are
              made unreadable to it first), or signal the grader; its processes are killed after it.
  none        an ordinary child process: grading works, but the scores are not tamper-proof, and the
              report and gradebook say so in a sentence.

Limits: memory and process count per submission through cgroups when running as root (v1 or v2,
whichever is writable), else memory per process only (RLIMIT_AS); CPU time per process (RLIMIT_CPU).
"""

from __future__ import annotations

import functools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from grader.core.manifest import DATA_DIR, ROOT, SOLUTIONS_DIR

BUBBLEWRAP, UID, NONE = "bubblewrap", "uid", "none"
UNPRIVILEGED = 65534  # nobody
NOT_TAMPER_PROOF = ("Learner code ran without a sandbox (bubblewrap is not available here), so these scores "
                    "are not tamper-proof: a submission could read the reference or forge its results.")
# The only environment the worker gets; BLAS threads pinned alike for every command.
THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
PASSED_THROUGH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LANG", "LC_ALL", "TERM")
# Files of the kata a worker never sees: the mutant banks quote the reference's lines.
HIDDEN_TEST_DIRS = ("tests/mutants",)
HIDDEN_PACKAGES = ("torch", "torchgen", "functorch", "nvidia", "triton")
MNIST_VISIBLE = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "SHA256SUMS", "README.md")


@dataclass(frozen=True)
class Isolation:
    kind: str
    sentence: str  # what the report says about it

    @property
    def tamper_proof(self) -> bool:
        return self.kind in (BUBBLEWRAP, UID)


@dataclass
class Limits:
    memory_bytes: int = 4 << 30
    cpu_seconds: int = 3600
    processes: int = 64


def _bwrap_works() -> bool:
    binary = shutil.which("bwrap")
    if binary is None or os.environ.get("KATA_NO_SANDBOX"):
        return False
    probe = [binary, *_base_arguments(Path(tempfile.gettempdir())), sys.executable, "-c", "pass"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=30, stdin=subprocess.DEVNULL).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _private_dirs() -> list[Path]:
    """Folders the unprivileged worker must not read (uid mode): the reference unless told otherwise."""
    listed = os.environ.get("KATA_PRIVATE_DIRS")
    return [Path(p) for p in listed.split(os.pathsep) if p] if listed else [SOLUTIONS_DIR]


def _readable_by_nobody(path: Path) -> bool:
    """Whether uid 65534 could read a file below `path` (every folder on the way searchable by others)."""
    for folder in [path, *path.parents]:
        if folder.exists() and not folder.stat().st_mode & 0o001:
            return False
    return any(p.stat().st_mode & 0o004 for p in path.glob("*.py")) if path.is_dir() else True


def _become_unprivileged() -> None:
    """In a child before exec (as root): no supplementary groups, then the unprivileged group and user."""
    os.setgroups([])
    os.setresgid(UNPRIVILEGED, UNPRIVILEGED, UNPRIVILEGED)
    os.setresuid(UNPRIVILEGED, UNPRIVILEGED, UNPRIVILEGED)


def _uid_works() -> bool:
    """Whether the unprivileged user can run this Python (it cannot when it lives under a private /root)."""
    try:
        return subprocess.run([sys.executable, "-c", "import numpy"], preexec_fn=_become_unprivileged,
                              capture_output=True, timeout=60, cwd="/", stdin=subprocess.DEVNULL).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@functools.lru_cache(maxsize=1)
def isolation() -> Isolation:
    mode = os.environ.get("KATA_SANDBOX", "")
    if mode != UID and _bwrap_works():
        return Isolation(BUBBLEWRAP, "Learner code ran in a bubblewrap sandbox (no view of the reference, "
                                     "PyTorch, other submissions or the grader's outputs).")
    if os.geteuid() == 0 and _uid_works() and not os.environ.get("KATA_NO_SANDBOX"):
        exposed = [str(p) for p in _private_dirs() if _readable_by_nobody(p)]
        if exposed:
            return Isolation(NONE, "Learner code ran as an unprivileged user (no namespaces here), but "
                                   f"{', '.join(exposed)} is readable by it, so these scores are not tamper-proof: "
                                   "make the reference private (chmod 700) before grading.")
        return Isolation(UID, "Learner code ran as an unprivileged user without namespaces: it could not read "
                              "the reference or change the kata, but PyTorch was visible to it (imports of it "
                              "are refused from the source).")
    if mode == UID:
        return Isolation(NONE, "Learner code ran without a sandbox: an unprivileged user was asked for, but it "
                               "cannot run this Python (is it under a private folder such as /root?), so these "
                               "scores are not tamper-proof.")
    return Isolation(NONE, NOT_TAMPER_PROOF)


def _python_roots() -> list[Path]:
    """The directories the interpreter and its libraries live in (a virtual environment and its base)."""
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), Path(sys.executable).resolve().parent,
             Path(sys.prefix).absolute()}  # unresolved too: a virtual environment reached through a symlink
    return sorted(roots)


def _base_arguments(scratch: Path) -> list[str]:
    arguments = ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                 "--uid", "65534", "--gid", "65534", "--clearenv",
                 "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", "/tmp/scratch",
                 "--chdir", "/tmp/scratch"]
    for system in ("/usr", "/lib", "/lib64", "/bin", "/etc/ld.so.cache", "/etc/alternatives"):
        arguments += ["--ro-bind-try", system, system]
    for root in _python_roots():
        arguments += ["--ro-bind", str(root), str(root)]
        for package in HIDDEN_PACKAGES:
            for found in root.glob(f"lib/python3*/site-packages/{package}"):
                arguments += ["--tmpfs", str(found)]
    return arguments


def stage_reference(modules: list[str], into: Path) -> Path:
    """A folder holding only the reference modules a worker may import (its exercise's dependencies)."""
    into.mkdir(parents=True, exist_ok=True)
    (into / "__init__.py").write_text('"""The reference modules this exercise\'s tests build on."""\n')
    for name in modules:
        shutil.copy2(SOLUTIONS_DIR / f"{name}.py", into / f"{name}.py")
    return into


def bubblewrap_command(command: list[str], *, target: Path, reference: Path, env: dict,
                       channel_fd: int) -> list[str]:
    """The bwrap command line that runs `command` in the sandbox described in the module docstring."""
    arguments = ["bwrap", *_base_arguments(Path("/tmp"))]
    for part in ("grader", "tests", "pyproject.toml"):
        arguments += ["--ro-bind", str(ROOT / part), str(ROOT / part)]
    for hidden in HIDDEN_TEST_DIRS:
        if (ROOT / hidden).exists():
            arguments += ["--tmpfs", str(ROOT / hidden)]
    arguments += ["--ro-bind", str(reference), str(SOLUTIONS_DIR)]
    for name in MNIST_VISIBLE:
        path = DATA_DIR / "mnist" / name
        if path.exists():
            arguments += ["--ro-bind", str(path), str(path)]
    arguments += ["--ro-bind", str(target), "/submission"]
    for key, value in env.items():
        arguments += ["--setenv", key, value]
    return arguments + command


def worker_environment(extra: dict) -> dict:
    env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
    env.update(THREADS, PATH="/usr/bin:/bin", HOME="/tmp", PYTHONDONTWRITEBYTECODE="1", PYTHONNOUSERSITE="1",
               PYTHONHASHSEED="0")
    env.update(extra)
    return env


LIMITS_VAR = "KATA_WORKER_LIMITS"


def limits_environment(limits: Limits, cgroup: "CGroup | None", wall_seconds: float | None = None) -> dict:
    """What the judge process needs to start its workers within one submission's limits."""
    data = {"memory_bytes": limits.memory_bytes, "cpu_seconds": limits.cpu_seconds, "processes": limits.processes,
            "cgroup": [str(p) for p in cgroup.paths] if cgroup else [], "wall_seconds": wall_seconds}
    return {LIMITS_VAR: json.dumps(data)}


def limits_from_environment() -> tuple[Limits, "CGroup | None"]:
    """The judge's side of limits_environment (defaults when grading outside grade-all)."""
    text = os.environ.get(LIMITS_VAR)
    if not text:
        return Limits(), None
    data = json.loads(text)
    cgroup = CGroup.existing([Path(p) for p in data.get("cgroup", [])])
    return Limits(data["memory_bytes"], data["cpu_seconds"], data["processes"]), cgroup


class CGroup:
    """A memory and process-count limit for every process of one submission (root only, else absent)."""

    @classmethod
    def existing(cls, paths: list[Path]) -> "CGroup":
        group = cls.__new__(cls)
        group.paths, group.owned = list(paths), False
        return group

    def __init__(self, limits: Limits):
        self.paths: list[Path] = []
        self.owned = True
        if os.geteuid() != 0 or os.environ.get("KATA_NO_CGROUP"):
            return
        name = f"kata-{uuid.uuid4().hex[:12]}"
        v1 = {"memory": ("memory.limit_in_bytes", limits.memory_bytes), "pids": ("pids.max", limits.processes)}
        for controller, (knob, value) in v1.items():
            base = Path("/sys/fs/cgroup") / controller
            try:
                path = base / name
                path.mkdir()
                (path / knob).write_text(str(value))
                self.paths.append(path)
            except OSError:
                continue

    @property
    def active(self) -> bool:
        return bool(self.paths)

    def enter(self) -> None:
        """Called in the child before exec: put this process (and so its descendants) in the group."""
        for path in self.paths:
            try:
                (path / "cgroup.procs").write_text(str(os.getpid()))
            except OSError:
                pass

    def close(self) -> None:
        if not self.owned:
            return
        for path in self.paths:
            procs = path / "cgroup.procs"
            try:
                for pid in procs.read_text().split():
                    try:
                        os.kill(int(pid), 9)
                    except OSError:
                        pass
                path.rmdir()
            except OSError:
                pass


def kill_unprivileged() -> None:
    """uid mode: end every process of the unprivileged user (a double-forked one outlives its group)."""
    if isolation().kind != UID:
        return
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == UNPRIVILEGED:
                    os.kill(int(entry.name), 9)
            except OSError:
                pass


def prepare_scratch(scratch: Path) -> None:
    """uid mode: the worker's scratch folder belongs to the unprivileged user, its only writable place."""
    if isolation().kind == UID:
        for path in [scratch, *scratch.rglob("*")]:
            os.chown(path, UNPRIVILEGED, UNPRIVILEGED)


def die_with_parent() -> None:
    """In a child before exec: be killed when the process that started it dies (Linux prctl), so a killed
    grading run leaves no judge or worker behind."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass


def preexec(limits: Limits, cgroup: CGroup | None):
    """Limits applied in the child before exec (per process; the cgroup adds per-submission ones)."""

    unprivileged = isolation().kind == UID

    def apply() -> None:
        os.setsid()  # its own process group, so a kill takes every process it started
        die_with_parent()
        if cgroup is not None:
            cgroup.enter()
        if unprivileged:
            _become_unprivileged()
        for which, value in ((resource.RLIMIT_AS, limits.memory_bytes), (resource.RLIMIT_CPU, limits.cpu_seconds)):
            try:
                resource.setrlimit(which, (value, value))
            except (ValueError, OSError):
                pass

    return apply
