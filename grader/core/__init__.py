"""The grader's core: the manifest, targets, and running learner code (worker and judge)."""
