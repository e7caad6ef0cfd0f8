"""Trusted grading under attack: hostile submissions (tests/grader/redteam/) graded by `make grade-all`
beside honest, blank and "zeros" submissions.

Proven here: no attacker earns more than the zeros submission (every method returns zeros of the right
shape), which earns nothing beyond the fact tests (under 3% of the points), nor does one that forges every
observation, on layers and over every exercise (forge_lambdas.py: the forgers run the reference's code with
every result zeroed, so each scenario reaches every check, and the policy that would forfeit them is lifted);
honest rows keep full marks whatever their order; a row with one hanging function loses only
the tests that call it; no process outlives its row; no host file grows past the worker's file limit; a
huge or malformed frame ends its worker with a sentence; a fork bomb stops at the process limit, with
cgroups and without; a killed batch keeps its finished rows and resumes.
Where bubblewrap is missing the sandbox cannot be proven, and the tests that need it say so and check
the weaker guarantee: the report and every row state that the scores are not tamper-proof.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.core import grading, manifest, sandbox, seeds
from grader.core.judge import WorkerSession
from grader.core.manifest import EXERCISES_DIR, ROOT, SOLUTIONS_DIR
from grader.instructor import gradebook

pytestmark = [pytest.mark.nightly, pytest.mark.slow, pytest.mark.timeout(900)]
REDTEAM = Path(__file__).parent / "redteam"
ATTACKS = sorted(p.stem for p in REDTEAM.glob("*.py") if p.stem not in ("zeros", "stray_thread", "hangs_in_backward"))
FORGERS = ("zeros", "echo", "lambdas", "oracles")  # the modes of forge_lambdas.py, graded over every exercise
SANDBOXED = sandbox.isolation().tamper_proof
LIMITS = gradebook.Limits(memory_gb=2.0, cpu_seconds=120, wall_seconds=300, processes=64)


def submission(folder: Path, name: str, base: Path, code: str = "") -> Path:
    own = folder / name
    shutil.copytree(EXERCISES_DIR, own, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(base / "layers.py", own / "layers.py")
    if code:
        with open(own / "layers.py", "a") as out:
            out.write("\n\n" + code)
    return own


def lookup_table() -> str:
    """The reference's observations of every layers test for the default seed, as a Python module."""
    kata = manifest.load()
    exercise = kata.exercise("layers")
    listed = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", str(exercise.test_file),
                             "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True).stdout
    nodeids = [line for line in listed.splitlines() if "::" in line]
    session = WorkerSession(exercise, SOLUTIONS_DIR, nodeids, reference_modules=kata.reference_modules("layers"),
                            seed=seeds.DEFAULT_SEED).start()
    table = {}
    try:
        for nodeid in nodeids:
            observations, _ = session.result(nodeid)
            table[nodeid] = [[o.value.tree, [base64.b64encode(a).decode() for a in o.value.arrays]]
                             for o in observations]
    finally:
        session.close()
    return f"TABLE = {json.dumps(table)!r}\nimport json as _json\nTABLE = _json.loads(TABLE)\n"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    # A hanging test costs its limit: 5 s keeps the hanging rows short and is still ample for honest code.
    previous = os.environ.get("KATA_TEST_TIMEOUT")
    os.environ["KATA_TEST_TIMEOUT"] = "5"
    try:
        yield grade_everyone(tmp_path_factory)
    finally:
        os.environ.pop("KATA_TEST_TIMEOUT") if previous is None else os.environ.update(KATA_TEST_TIMEOUT=previous)


def grade_everyone(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("gradebook")
    scratch = tmp_path_factory.mktemp("judges_tmp")  # the judges' and workers' scratch folders, watched
    shutil.copytree(SOLUTIONS_DIR, folder / "a_honest", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(SOLUTIONS_DIR, folder / "z_honest", ignore=shutil.ignore_patterns("__pycache__"))
    submission(folder, "blank", EXERCISES_DIR)
    submission(folder, "zeros", EXERCISES_DIR, (REDTEAM / "zeros.py").read_text())
    for name in ATTACKS:
        code = (REDTEAM / f"{name}.py").read_text()
        plus = [line.split(":")[1].split()[0] for line in code.splitlines() if line.startswith("# plus: ")]
        submission(folder, f"m_{name}", EXERCISES_DIR, "\n\n".join([code] + [(REDTEAM / p).read_text() for p in plus]))
    (folder / "m_lookup_table" / "lookup_table_data.py").write_text(lookup_table())
    for name in ("stray_thread", "hangs_in_backward"):
        submission(folder, f"h_{name}", SOLUTIONS_DIR, (REDTEAM / f"{name}.py").read_text())
    messages = []
    started = time.monotonic()
    watcher = LargestFile(scratch)
    previous = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(scratch)
    try:
        rows = gradebook.grade_all(folder, out, LIMITS, only="layers", say=messages.append)
    finally:
        os.environ.pop("TMPDIR") if previous is None else os.environ.update(TMPDIR=previous)
        watcher.stop()
    return {"rows": {row.name: row for row in rows}, "out": out, "folder": folder, "messages": messages,
            "seconds": time.monotonic() - started, "largest_file": watcher.largest}


class LargestFile:
    """The largest file seen under a folder, looked at ten times a second from another thread."""

    def __init__(self, folder: Path):
        import threading

        self.folder, self.largest, self.done = folder, (0, ""), False
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self):
        while not self.done:
            for root, _, files in os.walk(self.folder):
                for name in files:
                    try:
                        size = os.lstat(os.path.join(root, name)).st_size
                    except OSError:
                        continue
                    self.largest = max(self.largest, (size, os.path.join(root, name)))
            time.sleep(0.1)

    def stop(self):
        self.done = True
        self.thread.join()


def test_honest_rows_keep_full_marks_whatever_their_order(graded):
    for name in ("a_honest", "z_honest", "h_stray_thread"):
        row = graded["rows"][name]
        assert row.score == row.max_score == 10, (name, row.score, row.problems)


@pytest.mark.parametrize("attack", ATTACKS)
def test_no_attacker_earns_more_than_the_zeros_submission(graded, attack):
    """Nor more than the fact tests are worth (a forger reports what they ask for): 3% of the points."""
    if not SANDBOXED and attack in ("import_reference", "walk_up_and_exec", "copy_classmate"):
        pytest.skip("without bubblewrap the reference is readable: the row says the score is not tamper-proof")
    zeros = graded["rows"]["zeros"].score
    row = graded["rows"][f"m_{attack}"]
    assert row.score <= max(zeros, 0.03 * row.max_score), (attack, row.score, zeros, row.problems,
                                                           row.report["exercises"][0]["tests"])


def test_the_zeros_baseline_earns_nothing_beyond_fact_tests(graded):
    row = graded["rows"]["zeros"]
    assert row.score <= 0.03 * row.max_score, row.report["exercises"][0]["tests"]
    assert graded["rows"]["blank"].score == 0


def test_no_host_file_grows_past_the_workers_file_limit(graded):
    """The fill_disk row writes 512 MiB into every inherited descriptor of a regular file, into a file of its
    own and into its prints: its output goes through a pipe the judge truncates, and RLIMIT_FSIZE holds."""
    size, path = graded["largest_file"]
    assert size <= gradebook.Limits().for_workers().file_bytes, (size, path)


@pytest.mark.parametrize("attack, phrase", [("huge_frame", "not one this channel carries"),
                                            ("malformed_header", "not acceptable JSON")])
def test_a_huge_or_malformed_frame_ends_the_worker_with_a_sentence(graded, attack, phrase):
    tests = graded["rows"][f"m_{attack}"].report["exercises"][0]["tests"]
    assert tests and all(t["outcome"] != "passed" for t in tests)
    assert any("report was unreadable" in t["message"] and phrase in t["message"] for t in tests), tests


def test_every_row_states_the_limits_that_applied(graded):
    for row in graded["rows"].values():
        limits = row.report["limits"]
        assert limits.startswith("Limits") and ("per process only" in limits) == (limits in row.problems), row.name


def test_a_hanging_function_costs_only_the_tests_that_call_it(graded):
    row = graded["rows"]["h_hangs_in_backward"]
    tests = row.report["exercises"][0]["tests"]
    failed = [t["test"] for t in tests if t["outcome"] != "passed"]
    calls_backward = ("backward", "input", "modify", "gradients")
    assert failed and all(any(word in name for word in calls_backward) for name in failed), failed
    assert sum(t["outcome"] == "passed" for t in tests) >= 6, tests


def test_no_row_can_write_into_the_gradebook_or_other_submissions(graded):
    time.sleep(8)  # the detached process sleeps 6 s before it tries
    csv_text = (graded["out"] / "gradebook.csv").read_text()
    assert "detached_process,170,170" not in csv_text
    assert not list(graded["folder"].rglob("zz_kata_sabotage.pth"))
    assert not list(ROOT.rglob("zz_kata_sabotage.pth")), "a .pth file reached the kata's environment"


def test_the_sandbox_is_in_force_or_every_row_says_it_is_not(graded):
    rows = graded["rows"].values()
    if SANDBOXED:
        assert all(sandbox.NOT_TAMPER_PROOF not in row.problems for row in rows)
    else:
        assert all(sandbox.NOT_TAMPER_PROOF in row.problems for row in rows)


def test_the_lookup_table_works_for_the_default_seed_only(graded, tmp_path):
    """The table attack is real: with the fixed seed of `make check` it passes; grading uses a fresh seed."""
    target = graded["folder"] / "m_lookup_table"
    env = dict(os.environ, KATA_MODE="judge", KATA_SEED=str(seeds.DEFAULT_SEED))
    completed = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--target",
                                str(target), str(manifest.load().exercise("layers").test_file)],
                               cwd=ROOT, env=env, capture_output=True, text=True)
    assert " passed" in completed.stdout and graded["rows"]["m_lookup_table"].score == 0, completed.stdout[-800:]


@pytest.fixture(scope="module")
def forged_everywhere(tmp_path_factory):
    """Rows of the forgers of forge_lambdas.py over every exercise: the reference's modules with every result
    zeroed and every check forged as the mode says. The policy would forfeit them all (they reach the checks
    through sys.modules), which would prove nothing about the checks: it is lifted for these rows."""
    folder, out = tmp_path_factory.mktemp("forgers"), tmp_path_factory.mktemp("forged_gradebook")
    code = (REDTEAM / "forge_lambdas.py").read_text()
    for mode in FORGERS:
        shutil.copytree(SOLUTIONS_DIR, folder / mode, ignore=shutil.ignore_patterns("__pycache__"))
        for exercise in manifest.load().exercises:
            with open(folder / mode / exercise.module_file, "a") as module:
                module.write(f"\n\n_FORGE_MODE = {mode!r}\n_ZERO_RETURNS = True\n{code}")
    policy = grading.policy.apply
    grading.policy.apply = lambda results, graded: None
    try:
        rows = gradebook.grade_all(folder, out, LIMITS, fresh=True, say=lambda *a, **k: None)
    finally:
        grading.policy.apply = policy
    return {row.name: row for row in rows}


@pytest.mark.parametrize("mode", FORGERS)
def test_a_forger_earns_at_most_3_percent_over_every_exercise(forged_everywhere, mode):
    """Mode "oracles" evaluates every expected value's oracle in the worker (KATA_ORACLE=oracle): they hold because
    each oracle needs PyTorch, which only the judge has (grader/feedback/oracle.py), never a closed form or the
    reference modules of the exercise's dependencies, which the worker holds."""
    row = forged_everywhere[mode]
    passed = [f"{e['name']}: {t['test']}" for e in row.report["exercises"] for t in e["tests"] if t["outcome"] == "passed"]
    assert row.max_score > 0 and row.score <= 0.03 * row.max_score, (row.score, row.points, passed)


def test_a_killed_batch_keeps_its_finished_rows_and_resumes(tmp_path):
    folder, out = tmp_path / "submissions", tmp_path / "out"
    for name in ("first", "second", "third"):
        shutil.copytree(SOLUTIONS_DIR, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    command = [sys.executable, "-m", "grader", "grade-all", str(folder), "--out", str(out), "--only", "layers"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 300
    while not (out / "rows" / "first.json").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert (out / "rows" / "first.json").exists()
    assert "first" in (out / "gradebook.csv").read_text()
    resumed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert "first" in resumed.stdout and "unchanged since the last run" in resumed.stdout, resumed.stdout
    rows = json.loads((out / "gradebook.json").read_text())["rows"]
    assert [r["name"] for r in rows] == ["first", "second", "third"] and all(r["score"] == 10 for r in rows)


def test_a_fork_bomb_without_cgroups_is_ended_at_the_process_limit(tmp_path):
    """No cgroup (KATA_NO_CGROUP, or not root): RLIMIT_NPROC binds any user but root; as root the judge counts
    the worker's processes every 0.2 s and ends it. Every bomb's process is gone afterwards."""
    from grader.core import sandbox as sandboxes

    kata = manifest.load()
    exercise = kata.exercise("layers")
    target = submission(tmp_path, "bomb", EXERCISES_DIR, (REDTEAM / "fork_bomb.py").read_text())
    listed = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", str(exercise.test_file),
                             "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True).stdout
    nodeids = [line for line in listed.splitlines() if "::" in line][:3]
    session = WorkerSession(exercise, target, nodeids, reference_modules=kata.reference_modules("layers"),
                            limits=sandboxes.Limits(processes=64), cgroup=None).start()
    peak, seen = 0, set()
    try:
        while not session._finished:
            process = session._process
            if process is not None:
                tree = sandboxes.process_tree(process.pid)
                peak, seen = max(peak, len(tree)), seen | set(tree)
            time.sleep(0.02)
        results = [session.result(nodeid) for nodeid in nodeids]
    finally:
        session.close()
    time.sleep(1)
    alive = [pid for pid in seen if "grader.core.worker" in _command_line(pid)]
    assert all(error and error["kind"] in ("crash", "NotImplementedError") for _, error in results), results
    assert any(error and "more than 64 processes" in error["message"] for _, error in results) or \
        sandboxes.nproc_applies(), results
    assert not alive, alive
    print(f"peak processes of the worker's tree: {peak}")
    assert peak < 2000


def _command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as line:
            return line.read().decode(errors="replace")
    except OSError:
        return ""
