"""A ready worker: one process per judged submission, in the sandbox, that has imported NumPy and pytest (never
learner code) and forks a fresh worker for each exercise.

A worker spends about 0.3 s of CPU importing NumPy and pytest before it runs a test; fourteen exercises pay it
fourteen times. Forked from this process, a worker starts in about 20 ms, and is as isolated as one started
by bubblewrap alone:

    ready process   bubblewrap's namespaces; no reference, the submission read-only, not dumpable
      intermediate  unshare: a PID, mount and IPC namespace of its own for what it starts next
        init        PID 1 there: a private /tmp, and a tmpfs at solutions/ holding only this exercise's
                    reference modules (sent by the judge), then waits for the worker
          worker    no capabilities, no new privileges, its own limits; grader.core.worker.main

When init ends, the kernel ends every process of its namespace, so nothing a worker starts outlives its
exercise; a sibling worker sees neither its references (another mount namespace) nor its memory (not
dumpable, no capability). The judge sees init's host PID: its CPU time, process count and kill act on the
whole tree, as for a worker bubblewrap started.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path

from grader.core import sandbox, worker
from grader.core.judge import TARGET_MARK, Output
from grader.core.manifest import ROOT, SOLUTIONS_DIR
from grader.core.mode import PLUGINS_OFF

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID = 0x00020000, 0x08000000, 0x20000000
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE, MNT_DETACH = 1, 32, 4096, 16384, 1 << 18, 2
KEPT_FLAGS = 2 | 4 | 8 | 1024 | 2048 | 4096  # nosuid, nodev, noexec, noatime, nodiratime, relatime
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 4, 24, 38
FD_VAR = "KATA_ZYGOTE_FD"
MESSAGE_BYTES = 4 << 20  # a request carries the reference modules an exercise builds on: tens of kB


def send(sock: socket.socket, message: dict, fds: list[int] = ()) -> None:
    """One JSON message (a datagram of a SOCK_SEQPACKET pair), with file descriptors attached."""
    socket.send_fds(sock, [json.dumps(message).encode()], list(fds))


def receive(sock: socket.socket) -> tuple[dict | None, list[int]]:
    """The next message and its descriptors; (None, []) once the other side has closed."""
    data, fds, _, _ = socket.recv_fds(sock, MESSAGE_BYTES, 8)
    return (json.loads(data) if data else None), fds


def _libc(name: str, *arguments) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*arguments) != 0:
        raise OSError(ctypes.get_errno(), f"{name}{arguments[:3]} failed")


def _preload() -> None:
    """What every worker imports before it reads a test: NumPy, pytest and its plugins, the grader's modules
    (not pytest plugins, which pytest must import itself to rewrite their asserts)."""
    from _pytest.config import default_plugins

    plugins = [f"_pytest.{name}" for name in default_plugins if f"no:{name}" not in PLUGINS_OFF]
    for name in ["numpy", "pytest", *plugins, "grader.core.manifest", "grader.core.target", "grader.core.seeds",
                 "grader.feedback.checks", "grader.feedback.diagnose", "grader.feedback.oracle"]:
        importlib.import_module(name)


def _drop_privileges(limits: dict) -> None:
    for capability in range(64):
        ctypes.CDLL(None).prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)
    header, data = (ctypes.c_uint32 * 2)(0x20080522, 0), (ctypes.c_uint32 * 6)()  # _LINUX_CAPABILITY_VERSION_3
    _libc("capset", header, data)
    _libc("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    _libc("prctl", PR_SET_DUMPABLE, 0, 0, 0, 0)
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"]))


def _read_only(path: str) -> None:
    kept = os.statvfs(path).f_flag & KEPT_FLAGS  # a remount may not drop nosuid, nodev... (EPERM)
    _libc("mount", b"none", path.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept, None)


def _private_tmp(size: int) -> None:
    """A /tmp of the worker's own. What bubblewrap bound below the shared one (a kata checked out under
    /tmp: its grader, tests and Python) is bound again below the new one, read-only."""
    os.mkdir("/.shared-tmp")
    _libc("mount", b"/tmp", b"/.shared-tmp", None, MS_BIND | MS_REC, None)
    _libc("mount", b"tmpfs", b"/tmp", b"tmpfs", 0, b"size=%d" % size)
    for name in set(os.listdir("/.shared-tmp")) - {"scratch"}:
        shared, own = f"/.shared-tmp/{name}", f"/tmp/{name}"
        os.mkdir(own) if os.path.isdir(shared) else open(own, "w").close()
        _libc("mount", shared.encode(), own.encode(), None, MS_BIND | MS_REC, None)
        _read_only(own)
    _libc("umount2", b"/.shared-tmp", MNT_DETACH)
    os.rmdir("/.shared-tmp")


def _init(request: dict, fds: list[int], status_pipe: int, go: int) -> None:
    """PID 1 of the worker's namespace: its private folders, then (once the judge has found this process
    and says go) the worker, then the worker's exit status."""
    signal.set_wakeup_fd(-1)  # the ready process's; the worker forked below (learner code) gets Python's defaults
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _libc("mount", b"none", b"/", None, MS_REC | MS_PRIVATE, None)
    _private_tmp(request["limits"]["memory_bytes"])
    _libc("mount", b"tmpfs", str(SOLUTIONS_DIR).encode(), b"tmpfs", 0, b"size=16m")
    sandbox.write_reference(request["references"], SOLUTIONS_DIR)
    os.makedirs("/tmp/scratch")
    _libc("mount", b"tmpfs", b"/dev/shm", b"tmpfs", 0, b"size=64m")
    # bubblewrap's root and /dev are one tmpfs for the ready process and all its workers: read-only here.
    for shared in (str(SOLUTIONS_DIR), "/dev", "/"):
        _read_only(shared)
    if os.read(go, 1) != b"g":
        os._exit(0)
    worker = os.fork()
    if worker == 0:
        _run_worker(request, fds)
    while True:  # PID 1 adopts every orphan of the namespace: reap them until the worker itself ends
        pid, status = os.wait()
        if pid == worker:
            os.write(status_pipe, str(os.waitstatus_to_exitcode(status)).encode())
            os._exit(0)


def _run_worker(request: dict, fds: list[int]) -> None:
    code = 1
    try:
        channel, output = fds
        os.dup2(output, 1)
        os.dup2(output, 2)
        _drop_privileges(request["limits"])
        os.environ.clear()
        os.environ.update(request["env"], KATA_CHANNEL_FD=str(channel))
        os.chdir("/tmp/scratch")
        os.closerange(3, channel)
        os.closerange(channel + 1, 1 << 16)
        code = worker.main(request["arguments"])
    except BaseException as error:  # noqa: BLE001 - the status says it; the judge has the frames
        print(f"the worker could not start: {error!r}", file=sys.stderr)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _fork_worker(request: dict, fds: list[int]) -> tuple[int, int, int, int]:
    """(intermediate's pid, init's pid in this namespace, the pipe init writes the worker's status to, the
    pipe that lets init start the worker)."""
    pid_read, pid_write = os.pipe()
    status_read, status_write = os.pipe()
    go_read, go_write = os.pipe()
    intermediate = os.fork()
    if intermediate == 0:
        try:
            for fd in (pid_read, status_read, go_write):
                os.close(fd)
            _libc("unshare", CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC)
            init = os.fork()
            if init == 0:
                os.close(pid_write)
                try:
                    _init(request, fds, status_write, go_read)
                except BaseException as error:  # noqa: BLE001 - said where the judge keeps the worker's output
                    os.write(fds[1], f"the worker's namespace could not be set up: {error!r}\n".encode())
                    os._exit(126)
            os.write(pid_write, str(init).encode())
            os._exit(os.waitstatus_to_exitcode(os.waitpid(init, 0)[1]) & 0xFF)
        finally:
            os._exit(127)
    for fd in (pid_write, status_write, go_read, *fds):
        os.close(fd)
    init = int(os.read(pid_read, 32) or 0)
    os.close(pid_read)
    return intermediate, init, status_read, go_write


def main() -> None:
    """The ready process: preload, say so, then fork a worker per request until the judge hangs up."""
    control = socket.socket(fileno=int(os.environ.pop(FD_VAR)))
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # no worker can read this process's memory
    _preload()
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    send(control, {"ready": os.getpid()})
    running: dict[int, tuple[int, int]] = {}  # intermediate pid -> (request id, status pipe)
    gates: dict[int, int] = {}  # request id -> the pipe that starts its worker
    while True:
        readable, _, _ = select.select([control, wake_read], [], [])
        if wake_read in readable:
            os.read(wake_read, 4096)
        while running:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            number, status_pipe = running.pop(pid)
            status = os.read(status_pipe, 32)
            os.close(status_pipe)
            send(control, {"id": number, "status": int(status) if status else -signal.SIGKILL})
        if control in readable:
            request, fds = receive(control)
            if request is None:
                os._exit(0)
            if "go" in request:  # the judge found the worker's init (start it) or did not (it ends unstarted)
                gate = gates.pop(request["go"])
                if request["start"]:
                    os.write(gate, b"g")
                os.close(gate)
                continue
            intermediate, init, status_pipe, gates[request["id"]] = _fork_worker(request, fds)
            running[intermediate] = (request["id"], status_pipe)
            send(control, {"id": request["id"], "pid": init})


class ReadyWorker:
    """The judge's side: start the ready process in bubblewrap, and fork workers from it (`spawn`). A ready
    process that cannot start, or that ends, is `alive` no more: the judge then starts workers as before."""

    def __init__(self, target: Path, scratch: Path, limits: sandbox.Limits, cgroup=None):
        self.target, self.submission = target, scratch / "submission"
        self.submission.mkdir(parents=True)
        self.copied, self.alive, self.ended, self.process = False, False, False, None
        self.replies: dict[int, dict] = {}
        self._lock, self._changed, self._number = threading.Lock(), threading.Condition(), 0
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = sandbox.worker_environment({FD_VAR: str(theirs.fileno()), "PYTHONPATH": str(ROOT)})
        command = sandbox.bubblewrap_command([sys.executable, "-B", "-m", "grader.core.zygote"], target=self.submission,
                                             reference=None, env=env, extra=["--cap-add", "CAP_SYS_ADMIN"])
        try:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL, pass_fds=(theirs.fileno(),),
                                            preexec_fn=sandbox.preexec(limits, cgroup))
        except OSError:  # no bubblewrap after all: never alive
            return
        finally:
            theirs.close()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        message = {}
        while message is not None:
            try:
                message, _ = receive(self.sock)
            except (OSError, ValueError):
                message = None
            with self._changed:
                if message is None or "ready" in message:  # it has ended, or imported what it preloads
                    self.alive, self.ended = message is not None, message is None
                else:
                    self.replies.setdefault(message["id"], {}).update(message)
                self._changed.notify_all()

    def ready(self, timeout: float = 60) -> bool:
        """Whether it is alive, once it has imported what it preloads (or has ended)."""
        if self.process is None:
            return False
        with self._changed:
            # `ended`, not poll(): the socket closes a moment before the process can be reaped, and no one
            # would notify again (a refused ready process once cost a full minute here)
            self._changed.wait_for(lambda: self.alive or self.ended, timeout)
        return self.alive

    def spawn(self, arguments: list[str], env: dict, references: list[str], channel: int,
              limits: sandbox.Limits) -> "ForkedWorker | None":
        """A fresh worker running `python -m grader.core.worker ARGUMENTS` (judge.TARGET_MARK: the submission),
        or None if none could be forked: the judge then starts one."""
        if not self.ready():
            return None
        request = {"arguments": ["/submission" if a == TARGET_MARK else a for a in arguments],
                   "env": sandbox.worker_environment(dict(env, PYTHONPATH=str(ROOT))), "limits": asdict(limits),
                   "references": sandbox.reference_sources(references)}
        output = Output(show=False)
        try:
            with self._lock:
                if not self.copied:  # the learner's files as they are now (make watch starts this before a save)
                    sandbox.copy_submission(self.target, self.submission)
                    self.copied = True
                self._number += 1
                number = request["id"] = self._number
                send(self.sock, request, [channel, output.write_end])
            with self._changed:
                self._changed.wait_for(lambda: "pid" in self.replies.get(number, {}) or not self.alive, 30)
            init = self.replies.get(number, {}).get("pid")
            host_pid = self._host_pid(init) if init else None
            with self._lock:  # without its PID the judge could neither time nor stop it: then it never starts
                send(self.sock, {"go": number, "start": bool(host_pid)})
        except OSError:  # the ready process ended
            return None
        finally:
            output.started()
        return ForkedWorker(self, number, host_pid, output) if host_pid else None

    def _host_pid(self, init: int) -> int | None:
        """init's PID as this process sees it: the one process of the sandbox whose PIDs end (init, 1)."""
        for pid in sandbox.process_tree(self.process.pid):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as status:
                nspids = next((row.split()[1:] for row in status if row.startswith("NSpid:")), [])
                if nspids[-2:] == [str(init), "1"]:
                    return pid
        return None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        if self.process is not None:
            self.process.kill()  # bubblewrap's namespace, and every worker in it, ends with it
            self.process.wait(timeout=10)


class ForkedWorker:
    """A forked worker as the judge handles a started one (subprocess.Popen's pid, poll, wait, kill)."""

    forked = True

    def __init__(self, ready: ReadyWorker, number: int, pid: int, output):
        self.ready, self.number, self.pid, self.output, self.returncode = ready, number, pid, output, None

    def poll(self) -> int | None:
        reply = self.ready.replies.get(self.number, {})
        if "status" in reply:
            self.returncode = reply["status"]
        elif not self.ready.alive:
            self.returncode = -signal.SIGKILL
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        with self.ready._changed:
            if not self.ready._changed.wait_for(lambda: self.poll() is not None, timeout):
                raise subprocess.TimeoutExpired("worker", timeout)
        return self.returncode

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
