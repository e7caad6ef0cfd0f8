"""Data sets the grader loads (MNIST, vendored and verified)."""
