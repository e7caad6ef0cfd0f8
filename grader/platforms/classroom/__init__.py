"""GitHub Classroom: the autograding workflow of a student repository (classroom.yml) and the step it runs
once per exercise (step.py)."""
