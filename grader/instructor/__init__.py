"""The instructor's commands: grade-all and its gradebook, integrity."""
