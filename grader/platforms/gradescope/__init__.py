"""Gradescope's autograder: setup.sh (once, when the image is built), run_autograder (once per submission,
which runs autograde.py), and build.py (`make gradescope`, the zip to upload)."""
