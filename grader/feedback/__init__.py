"""Feedback for learners: the checks tests call, diagnoses from the numbers, compare probes."""
