"""Which submissions are near-identical: shown beside the scores, never changing them.

Each exercise file is reduced to a stream of tokens with names, numbers and strings normalised and
comments, docstrings and layout dropped (so renaming variables or reformatting changes nothing), then to
the set of its 12-token windows (k-grams). Windows that also occur in the stub are discounted: the
docstrings and signatures every learner starts from are not evidence of copying. Two files are
near-identical when at least THRESHOLD of the smaller file's remaining windows are shared; the report
gives the score and the matching line spans in both files. Every submission is also compared with the
reference (solutions/), which is public.
"""

from __future__ import annotations

import io
import json
import keyword
import tokenize
from pathlib import Path

from grader.core import manifest, report
from grader.core.manifest import EXERCISES_DIR, SOLUTIONS_DIR

K = 12
THRESHOLD = 0.8
MIN_WINDOWS = 15  # fewer own windows than this (a stub, a few lines) is too little to compare
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING,
         tokenize.ENDMARKER}


def tokens(source: str) -> list[tuple[str, int]]:
    """(normalised token, line) pairs: names become N (keywords kept), numbers 0, strings S."""
    found: list[tuple[str, int]] = []
    previous = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in _SKIP:
                previous = token.type
                continue
            if token.type == tokenize.STRING and previous in (tokenize.INDENT, tokenize.NEWLINE, tokenize.NL, None):
                previous = token.type
                continue  # a docstring, or a string standing alone as a statement
            if token.type == tokenize.NAME:
                text = token.string if keyword.iskeyword(token.string) else "N"
            elif token.type == tokenize.NUMBER:
                text = "0"
            elif token.type == tokenize.STRING:
                text = "S"
            else:
                text = token.string
            found.append((text, token.start[0]))
            previous = token.type
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return found


def windows(source: str) -> dict[int, list[int]]:
    """{hash of a k-gram: [its first line, its last line]} (the first occurrence of each)."""
    stream = tokens(source)
    found: dict[int, list[int]] = {}
    for i in range(len(stream) - K + 1):
        key = hash(tuple(text for text, _ in stream[i:i + K]))
        found.setdefault(key, [stream[i][1], stream[i + K - 1][1]])
    return found


def _spans(lines: list[list[int]]) -> list[list[int]]:
    """Merge [first, last] line ranges into maximal spans."""
    merged: list[list[int]] = []
    for first, last in sorted(lines):
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return merged


def compare_files(a: str, b: str, stub: str) -> dict | None:
    """Score and matching spans of two versions of one exercise file, or None if too little to compare."""
    common = set(windows(stub))
    own_a = {k: v for k, v in windows(a).items() if k not in common}
    own_b = {k: v for k, v in windows(b).items() if k not in common}
    if min(len(own_a), len(own_b)) < MIN_WINDOWS:
        return None
    shared = set(own_a) & set(own_b)
    score = len(shared) / min(len(own_a), len(own_b))
    return {"score": round(score, 3), "spans_a": _spans([own_a[k] for k in shared]),
            "spans_b": _spans([own_b[k] for k in shared])}


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def compare_submissions(folders: dict[str, Path], threshold: float = THRESHOLD) -> dict:
    """Near-identical pairs of submissions, per exercise, and submissions near-identical to the reference."""
    kata = manifest.load()
    found = {"threshold": threshold, "k": K, "kata_version": report.kata_version(), "pairs": [], "reference": []}
    names = sorted(folders)
    for exercise in kata.exercises:
        stub = _read(EXERCISES_DIR / exercise.module_file)
        sources = {name: _read(folders[name] / exercise.module_file) for name in names}
        reference = _read(SOLUTIONS_DIR / exercise.module_file)
        for i, first in enumerate(names):
            for second in names[i + 1:]:
                match = compare_files(sources[first], sources[second], stub)
                if match and match["score"] >= threshold:
                    found["pairs"].append({"exercise": exercise.name, "a": first, "b": second, **match})
            match = compare_files(sources[first], reference, stub)
            if match and match["score"] >= threshold:
                found["reference"].append({"exercise": exercise.name, "submission": first, **match})
    return found


def summary_for(found: dict, name: str) -> list[str]:
    """Short phrases for one submission's gradebook row, e.g. 'layers: 0.97 like bob'."""
    phrases = []
    for pair in found["pairs"]:
        if name in (pair["a"], pair["b"]):
            other = pair["b"] if pair["a"] == name else pair["a"]
            phrases.append(f"{pair['exercise']}: {pair['score']:.2f} like {other}")
    phrases += [f"{entry['exercise']}: {entry['score']:.2f} like the reference"
                for entry in found["reference"] if entry["submission"] == name]
    return phrases


def write(found: dict, path: Path) -> None:
    report.write(found, path)
