"""Where learner code runs: a sandbox it cannot see out of, or the weaker fallbacks, said plainly.

`isolation()` picks, once per process, the strongest mechanism this machine allows:

  bubblewrap  Linux user, mount, PID, network and IPC namespaces (Debian package `bubblewrap`). The
              worker sees a read-only view of the Python installation, the grader and the tests (not the
              mutant banks), the submission, and only the reference modules its exercise's tests load as
              dependencies; a private /tmp is its only writable place. It cannot signal or read other
              processes, nor see other submissions, PyTorch, the MNIST test labels or the instructor's
              files, and every process it starts dies with it (its PID namespace ends with the worker).
              Judged exercises fork their workers from one ready process in this sandbox (zygote.py).
  uid         as root where namespaces are refused (a course platform's container): the worker runs as
              an unprivileged user (uid 65534, no new privileges) in a scratch folder of its own. It cannot
              write the kata, read anything private to root (KATA_PRIVATE_DIRS, e.g. the reference, are
              made unreadable to it first), or signal the grader; its processes are killed after it.
  none        an ordinary child process: grading works, but the scores are not tamper-proof, and the
              report and gradebook say so in a sentence.

Limits: memory, process count and CPU share per submission through cgroups when running as root (v2 or
v1, see CGroup), else per process: memory (RLIMIT_AS), processes (RLIMIT_NPROC, which binds every user but
root; the judge also counts a worker's processes and ends it over the limit), and always CPU time
(RLIMIT_CPU) and the size of any file written (RLIMIT_FSIZE). limits_sentence says which applied.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import resource
import shutil
import subprocess
import sys
import uuid
from dataclasses import asdict, dataclass
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
    cpus: float = 2.0  # cores a submission's processes may use at once (a cgroup's CPU quota)
    file_bytes: int = 64 << 20  # the largest file a worker may write (RLIMIT_FSIZE; its /tmp only)


# The judge's own bounds (runner.py and the milestone command start it with judge_preexec): its data
# (heap and anonymous memory, RLIMIT_DATA) and the files it writes (its log, the verdicts). A worker's
# frames are bounded far below this (wire.TEST_BYTES per test, wire.SESSION_BYTES per exercise).
JUDGE_DATA_BYTES = 6 << 30
JUDGE_FILE_BYTES = 1 << 30


def _bwrap_works() -> bool:
    binary = shutil.which("bwrap")
    if binary is None or os.environ.get("KATA_NO_SANDBOX"):
        return False
    probe = [binary, *_base_arguments(), sys.executable, "-c", "pass"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=30, stdin=subprocess.DEVNULL).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


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
        listed = os.environ.get("KATA_PRIVATE_DIRS")  # what the worker must not read: the reference unless told
        private = [Path(p) for p in listed.split(os.pathsep) if p] if listed else [SOLUTIONS_DIR]
        exposed = [str(p) for p in private if _readable_by_nobody(p)]
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


def _base_arguments() -> list[str]:
    arguments = ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                 "--uid", "65534", "--gid", "65534", "--clearenv",
                 "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", "/tmp/scratch",
                 "--chdir", "/tmp/scratch"]
    for system in ("/usr", "/lib", "/lib64", "/bin", "/etc/ld.so.cache", "/etc/alternatives"):
        arguments += ["--ro-bind-try", system, system]
    # Where the interpreter and its libraries live (a virtual environment and its base), the virtual environment
    # unresolved too: it may be reached through a symlink.
    for root in sorted({Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
                        Path(sys.executable).resolve().parent, Path(sys.prefix).absolute()}):
        arguments += ["--ro-bind", str(root), str(root)]
        for package in HIDDEN_PACKAGES:
            for found in root.glob(f"lib/python3*/site-packages/{package}"):
                arguments += ["--tmpfs", str(found)]
    return arguments


def reference_sources(modules: list[str]) -> dict[str, str]:
    """{name: source} of the reference modules a worker may import (its exercise's dependencies)."""
    return {name: (SOLUTIONS_DIR / f"{name}.py").read_text() for name in modules}


def write_reference(sources: dict[str, str], into: Path) -> Path:
    """A package folder holding only these reference modules (a started worker's, or a forked one's tmpfs)."""
    into.mkdir(parents=True, exist_ok=True)
    (into / "__init__.py").write_text('"""The reference modules this exercise\'s tests build on."""\n')
    for name, source in sources.items():
        (into / f"{name}.py").write_text(source)
    return into


def copy_submission(target: Path, into: Path) -> Path:
    """The learner's top-level .py files (regular files only), copied where the worker reads them."""
    into.mkdir(parents=True, exist_ok=True)
    for path in sorted(target.glob("*.py")):
        if path.is_file() and not path.is_symlink():
            shutil.copyfile(path, into / path.name)
    return into


def bubblewrap_command(command: list[str], *, target: Path, reference: Path | None, env: dict,
                       extra: list[str] = ()) -> list[str]:
    """The bwrap command line that runs `command` in the sandbox described in the module docstring (without
    `reference`, an empty solutions/ the ready process's workers mount their own over: zygote.py)."""
    arguments = ["bwrap", *_base_arguments(), *extra]
    for part in ("grader", "tests", "pyproject.toml"):
        arguments += ["--ro-bind", str(ROOT / part), str(ROOT / part)]
    for hidden in HIDDEN_TEST_DIRS:
        if (ROOT / hidden).exists():
            arguments += ["--tmpfs", str(ROOT / hidden)]
    arguments += ["--ro-bind", str(reference), str(SOLUTIONS_DIR)] if reference else ["--dir", str(SOLUTIONS_DIR)]
    for name in MNIST_VISIBLE:  # with their decompressed bytes (grader/data/mnist.py), when kept
        for path in [DATA_DIR / "mnist" / name, *(DATA_DIR / "mnist" / ".decoded").glob(f"{name}.*")]:
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


def limits_environment(limits: Limits, cgroup: "CGroup | None") -> dict:
    """What the judge process needs to start its workers within one submission's limits."""
    data = {"limits": asdict(limits), "cgroup": [str(p) for p in cgroup.paths] if cgroup else [],
            "version": cgroup.version if cgroup else None}
    return {LIMITS_VAR: json.dumps(data)}


def limits_from_environment() -> tuple[Limits, "CGroup | None"]:
    """The judge's side of limits_environment (defaults when grading outside grade-all)."""
    text = os.environ.get(LIMITS_VAR)
    if not text:
        return Limits(), None
    data = json.loads(text)
    cgroup = CGroup.existing([Path(p) for p in data.get("cgroup", [])], data.get("version"))
    return Limits(**data["limits"]), cgroup


class CGroup:
    """Memory, process-count and CPU limits for every process of one submission (root only, else absent).

    cgroup v2 where `root` (normally /sys/fs/cgroup) is a unified hierarchy (it has cgroup.controllers):
    one group with memory.max, memory.swap.max, pids.max and cpu.max, the controllers enabled in the
    parent's cgroup.subtree_control first. cgroup v1 otherwise: a group in each of memory/, pids/ and cpu/.
    A knob that cannot be written is left out, and `applied` says only what was written."""

    V2_KNOBS = ("memory.max", "memory.swap.max", "pids.max", "cpu.max")

    @classmethod
    def existing(cls, paths: list[Path], version: int | None = None) -> "CGroup":
        group = cls.__new__(cls)
        group.paths, group.owned, group.version, group.applied = list(paths), False, version, []
        return group

    def __init__(self, limits: Limits, root: Path = Path("/sys/fs/cgroup")):
        self.paths: list[Path] = []
        self.applied: list[str] = []  # the knobs written, e.g. "memory.max"
        self.owned, self.version = True, None
        if os.geteuid() != 0 or os.environ.get("KATA_NO_CGROUP"):
            return
        name = f"kata-{uuid.uuid4().hex[:12]}"
        quota = f"{int(limits.cpus * 100_000)} 100000"
        if (root / "cgroup.controllers").is_file():
            self.version = 2
            available = (root / "cgroup.controllers").read_text().split()
            _write(root / "cgroup.subtree_control", " ".join(f"+{c}" for c in ("memory", "pids", "cpu")
                                                                 if c in available))
            values = (limits.memory_bytes, 0, limits.processes, quota)
            self._make(root / name, dict(zip(self.V2_KNOBS, values)))
        else:
            self.version = 1
            for controller, knobs in (("memory", {"memory.limit_in_bytes": limits.memory_bytes}),
                                      ("pids", {"pids.max": limits.processes}),
                                      ("cpu", {"cpu.cfs_period_us": 100_000,
                                               "cpu.cfs_quota_us": int(limits.cpus * 100_000)})):
                self._make(root / controller / name, knobs)

    def _make(self, path: Path, knobs: dict) -> None:
        try:
            path.mkdir()
        except OSError:
            return
        self.paths.append(path)
        self.applied += [knob for knob, value in knobs.items() if _write(path / knob, str(value))]

    @property
    def active(self) -> bool:
        return bool(self.paths)

    def enter(self) -> None:
        """Called in the child before exec: put this process (and so its descendants) in the group."""
        for path in self.paths:
            _write(path / "cgroup.procs", str(os.getpid()))

    def close(self) -> None:
        if not self.owned:
            return
        for path in self.paths:
            _write(path / "cgroup.kill", "1")  # v2 (Linux 5.14+): every process in it, at once
            with contextlib.suppress(OSError):
                for pid in (path / "cgroup.procs").read_text().split():
                    with contextlib.suppress(OSError):
                        os.kill(int(pid), 9)
                path.rmdir()


def _write(path: Path, text: str) -> bool:
    try:
        path.write_text(text)
        return True
    except OSError:
        return False


def limits_sentence(limits: Limits, cgroup: CGroup | None) -> str:
    """The limits that applied to a submission's workers, in one sentence for its row."""
    gib = limits.memory_bytes / 2**30
    each = (f"per process: {limits.cpu_seconds} s of CPU, {gib:g} GiB of address space, files of at most "
            f"{limits.file_bytes >> 20} MiB")
    if cgroup is not None and cgroup.active:
        knobs = ", ".join(cgroup.applied) or "none of its limits could be written"
        return (f"Limits: {gib:g} GiB of memory, {limits.processes} processes and {limits.cpus:g} CPUs for the "
                f"whole submission (cgroup v{cgroup.version}: {knobs}); {each}.")
    count = (f"{limits.processes} processes more than its user had (RLIMIT_NPROC)" if nproc_applies() else
             f"{limits.processes} processes, counted by the judge, which ends a worker over it (RLIMIT_NPROC "
             "does not bind root)")
    return f"Limits, per process only (no cgroup: not running as root, or none writable): {each}; {count}."


def nproc_applies() -> bool:
    """Whether RLIMIT_NPROC binds the workers: it does for any user but root (uid mode runs them as nobody)."""
    return os.geteuid() != 0 or isolation().kind == UID


def _processes_of(uid: int) -> int:
    """How many tasks (processes and threads, as RLIMIT_NPROC counts them) the user runs now."""
    count = 0
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                count += len(os.listdir(entry / "task"))
    return count


def process_tree(pid: int) -> dict[int, list[str]]:
    """{pid: the fields of /proc/PID/stat after the command name} of a process, its descendants and, when
    it leads a session (sandbox.preexec), every member of that session, wherever adopted. Empty without
    /proc (macOS)."""
    table = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as stat:  # OSError: it ended meanwhile
                table[int(entry)] = stat.read().rpartition(")")[2].split()
    if pid not in table:
        return {}
    session = table[pid][3] if table[pid][3] == str(pid) else None
    members, grew = {pid}, True
    while grew:
        grew = False
        for other, fields in table.items():
            if other not in members and (int(fields[1]) in members or fields[3] == session):
                members.add(other)
                grew = True
    return {member: table[member] for member in members}


class ProcessTreeClock:
    """The CPU time of a process and all its descendants, read from /proc by another process.

    The judge times the learner's steps with this: the kernel's count, which nothing in the worker can
    change. `read()` gives (precise, coarse) seconds:
      precise  the sum of every live thread's time on a CPU (/proc/PID/task/TID/schedstat, nanoseconds);
      coarse   every process's user + system time, its ended threads and waited-for children included
               (/proc/PID/stat, clock ticks: usually 10 ms).
    Work done on a thread or a process that ended between two readings escapes `precise` but not
    `coarse`: comparing the two over a run tells whether anything escaped. The processes counted are
    process_tree's; None where /proc is missing (macOS)."""

    TICK = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01

    def __init__(self, pid: int):
        self.pid = pid

    def read(self, tree: dict | None = None) -> tuple[float, float] | None:
        """`tree`: process_tree(pid) if just read."""
        if not os.path.isdir("/proc"):
            return None
        precise = coarse = 0.0
        for pid, fields in (process_tree(self.pid) if tree is None else tree).items():
            coarse += sum(int(value) for value in fields[11:15]) * self.TICK  # utime stime cutime cstime
            with contextlib.suppress(OSError):
                for tid in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{tid}/schedstat") as schedstat:
                        precise += int(schedstat.read().split()[0]) * 1e-9
        return precise, coarse


def kill_unprivileged() -> None:
    """uid mode: end every process of the unprivileged user (a double-forked one outlives its group)."""
    if isolation().kind != UID:
        return
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and entry.stat().st_uid == UNPRIVILEGED:
                os.kill(int(entry.name), 9)


def die_with_parent() -> None:
    """In a child before exec: be killed when the process that started it dies (Linux prctl), so a killed
    grading run leaves no judge or worker behind."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL


def _set_limits(pairs) -> None:
    for which, value in pairs:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(which, (value, value))


def judge_preexec() -> None:
    """In a judge's child before exec: die with its parent, and bound the judge's own memory and files."""
    die_with_parent()
    _set_limits([(resource.RLIMIT_DATA, JUDGE_DATA_BYTES), (resource.RLIMIT_FSIZE, JUDGE_FILE_BYTES)])


def preexec(limits: Limits, cgroup: CGroup | None):
    """Limits applied in the child before exec (per process; the cgroup adds per-submission ones)."""
    unprivileged = isolation().kind == UID
    pairs = [(resource.RLIMIT_AS, limits.memory_bytes), (resource.RLIMIT_CPU, limits.cpu_seconds),
             (resource.RLIMIT_FSIZE, limits.file_bytes)]
    if not (cgroup is not None and cgroup.active) and nproc_applies():
        # No cgroup: the process count of the user the worker runs as, plus its allowance.
        others = 0 if unprivileged else _processes_of(os.getuid())
        pairs.append((resource.RLIMIT_NPROC, others + limits.processes))

    def apply() -> None:
        os.setsid()  # its own process group, so a kill takes every process it started
        die_with_parent()
        if cgroup is not None:
            cgroup.enter()
        if unprivileged:
            _become_unprivileged()
        _set_limits(pairs)

    return apply
