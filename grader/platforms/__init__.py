"""Course platforms: the Gradescope autograder (gradescope/) and the GitHub Classroom workflow (classroom/).

Both turn the kata's own grade report into the platform's format (grader/platforms/export.py); neither
grades differently from `make grade` and `make grade-all`.
"""
