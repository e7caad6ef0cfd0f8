"""What the tests of the learner's commands share: a grade report of chosen exercises, and a stand-in for
the runner. Used by test_commands_*.py (their `state` fixture is in tests/grader/conftest.py)."""

from grader.core import manifest
from grader.core.report import ExerciseStatus, MilestoneStatus
from grader.core.runner import TargetRun
from grader.core.runner import TestResult as Outcome  # a name pytest does not try to collect

KATA = manifest.load()
FIRST, SECOND = KATA.exercises[0], KATA.exercises[1]


def report(done=(), failing=()):
    """A grade report of the shape grader/learner/grade.py writes, for the exercises named."""
    exercises = []
    for ex in KATA.exercises:
        if ex.name in done:
            exercises.append({"name": ex.name, "title": ex.title, "passed": 5, "total": 5, "points": ex.points,
                              "max_points": ex.points, "status": ExerciseStatus.DONE, "tests": []})
        else:
            passed = 2 if ex.name in failing else 0
            exercises.append({"name": ex.name, "title": ex.title, "passed": passed, "total": 5,
                              "points": ex.points * passed / 5, "max_points": ex.points,
                              "status": ExerciseStatus.IN_PROGRESS if passed else ExerciseStatus.NOT_STARTED,
                              "tests": []})
    return {"target": "exercises", "score": sum(e["points"] for e in exercises),
            "max_score": sum(ex.points for ex in KATA.exercises), "exercises": exercises,
            "milestones": [{"name": "mnist", "status": MilestoneStatus.LOCKED, "reason": "needs ..."}]}


def fake_run(outcomes):
    """A stand-in for runner.run_exercise returning the next TargetRun from `outcomes` (passed, total)."""
    calls = []

    def run(exercise, targets):
        passed, total = outcomes[len(calls)]
        calls.append(exercise.name)
        tests = [Outcome(f"test_{i}", "passed") for i in range(passed)]
        tests += [Outcome(f"test_fails_{i}", "failed", message="Linear.forward is wrong (relative error 1).")
                  for i in range(total - passed)]
        return {str(targets[0]): TargetRun(target=str(targets[0]), tests=tests)}

    return run, calls
