"""The learner's commands: grade, check, compare, watch, hint, progress, reset."""
