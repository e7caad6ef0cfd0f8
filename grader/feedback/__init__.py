"""Feedback for learners: the checks tests call and the diagnoses from the numbers (`make check` and
`make compare` print the same ones)."""
