"""The kata's grader: manifest, target loading, diagnoses, test runner, milestones and commands.

Run `python -m grader --help` (or the make targets in the Makefile) for the commands.
"""
