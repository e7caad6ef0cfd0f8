"""The grader's MNIST loader: the vendored IDX files in data/mnist/, checked, NumPy only, no network.

    X, y = load("train")     # X float32 (60000, 784) in [0, 1], y int64 (60000,) in 0..9
    X, y = load("test")      # 10000 examples
    verify()                 # {file name: sha256 of the decompressed bytes}, checked against SHA256SUMS

Every problem with the files raises `DataError` with one sentence saying what is wrong and what to do:
a missing file, a git-lfs pointer instead of the data, a truncated or corrupt gzip, a wrong checksum, a
bad IDX header.

IDX layout (big-endian int32 header, then one unsigned byte per value):
    images: magic 0x00000803 (2051), count, rows, cols, then count * rows * cols pixels
    labels: magic 0x00000801 (2049), count, then count labels

Speed: each file is decompressed and checksummed once per (size, mtime) and kept as bytes, so repeated
`verify()` and `load()` calls cost only a stat; the bytes of the images are also written to DECODED, named by that
size, mtime and checksum, so that the next process reads them instead of spending 0.3 s on gzip and sha256 (a
grading run loads the training set in its judge and in a worker). `load` returns
fresh float32 arrays each time (about 0.1 s for the training set), so a caller that normalises in place
cannot corrupt what the next caller gets.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np

# The kata's data/ folder (grader/data/mnist.py -> the repository root): data/ depends on no other grader
# package, so every layer, core included, may load MNIST.
DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "mnist"
CHECKSUMS = "SHA256SUMS"
DECODED = DATA_DIR / ".decoded"  # not in git; a sandboxed worker only reads it

SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
FILES = tuple(name for pair in SPLITS.values() for name in pair)
IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
N_CLASSES = 10

_LFS_POINTER = b"version https://git-lfs"
_RESTORE = "run `git checkout data/` (or re-clone the repository) to restore the vendored files"


class DataError(Exception):
    """The MNIST files are missing or damaged; the message says which file and what to do."""


# (resolved path, size, mtime_ns) -> (decompressed bytes, their sha256 hex digest).
_CACHE: dict[tuple, tuple[bytes, str]] = {}


def _decompressed(path: Path) -> tuple[bytes, str]:
    """The decompressed bytes of one .gz file and their sha256, computed once per (size, mtime)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise DataError(f"The MNIST file {path} is missing: {_RESTORE}.") from None
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _CACHE:
        return _CACHE[key]
    stem = f"{path.name}.{stat.st_size}.{stat.st_mtime_ns}."
    kept = path.parent == DATA_DIR and "-images-" in path.name  # the labels are small, and the test set's secret
    for decoded in DECODED.glob(stem + "*") if kept else ():
        with contextlib.suppress(OSError):
            _CACHE[key] = decoded.read_bytes(), decoded.name.removeprefix(stem)
            return _CACHE[key]
    raw = path.read_bytes()
    if raw.startswith(_LFS_POINTER):
        raise DataError(f"The MNIST file {path} is a git-lfs pointer, not the data: run `git lfs install && "
                        "git lfs pull` in the repository, or re-clone it with git-lfs installed.")
    try:
        data = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"The MNIST file {path} is truncated or not valid gzip ({error}): {_RESTORE}.") from None
    # Drop stale versions of this file (it changed on disk) before remembering the new one.
    for old in [k for k in _CACHE if k[0] == key[0]]:
        del _CACHE[old]
    _CACHE[key] = data, hashlib.sha256(data).hexdigest()
    if kept:
        with contextlib.suppress(OSError):  # read-only here (a sandbox, a read-only checkout): no cache
            DECODED.mkdir(exist_ok=True)
            for stale in DECODED.glob(f"{path.name}.*"):  # of an older version of the file
                stale.unlink()
            partial = DECODED / f".{stem}{os.getpid()}"
            partial.write_bytes(data)
            partial.rename(DECODED / (stem + _CACHE[key][1]))  # whole or absent, for a reader in parallel
    return _CACHE[key]


def _expected_checksums(data_dir: Path) -> dict[str, str]:
    path = data_dir / CHECKSUMS
    if not path.exists():
        raise DataError(f"The checksum list {path} is missing: {_RESTORE}.")
    # "<sha256>  [md5:<md5>]  <file name>": the first field is the digest, the last the name.
    rows = [line.split() for line in path.read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]
    return {fields[-1]: fields[0].lower() for fields in rows}


def _verified(data_dir: Path, name: str, expected: dict[str, str]) -> tuple[bytes, str]:
    """One file's decompressed bytes and their sha256, checked against the checksum list."""
    path = data_dir / name
    if name not in expected:
        raise DataError(f"{data_dir / CHECKSUMS} has no checksum for {name}: {_RESTORE}.")
    data, digest = _decompressed(path)
    if digest != expected[name]:
        raise DataError(f"The MNIST file {path} has the wrong checksum (sha256 of its decompressed bytes is "
                        f"{digest[:12]}..., expected {expected[name][:12]}...): {_RESTORE}.")
    return data, digest


def verify(data_dir: str | os.PathLike = DATA_DIR) -> dict[str, str]:
    """Check the four files against SHA256SUMS (DataError for the first that fails); return {file name:
    sha256 of the decompressed bytes}."""
    data_dir = Path(data_dir)
    expected = _expected_checksums(data_dir)
    return {name: _verified(data_dir, name, expected)[1] for name in FILES}


def _header(data: bytes, path: Path, magic: int, n_dims: int) -> tuple[int, ...]:
    size = 4 * (1 + n_dims)
    if len(data) < size:
        raise DataError(f"The MNIST file {path} is too short for an IDX header ({len(data)} bytes): {_RESTORE}.")
    fields = tuple(int(v) for v in np.frombuffer(data, dtype=">i4", count=1 + n_dims))
    if fields[0] != magic:
        raise DataError(f"The MNIST file {path} has IDX magic number {fields[0]}, expected {magic}: it is not an "
                        f"MNIST {'image' if magic == IMAGE_MAGIC else 'label'} file; {_RESTORE}.")
    dims = fields[1:]
    if len(data) - size != int(np.prod(dims)):
        raise DataError(f"The MNIST file {path} has an IDX header announcing {dims} values but holds "
                        f"{len(data) - size} bytes after it: {_RESTORE}.")
    return dims


def load(split: str, data_dir: str | os.PathLike = DATA_DIR) -> tuple[np.ndarray, np.ndarray]:
    """X, y of one split ("train" or "test"), checked against SHA256SUMS: X float32 (N, 784) in [0, 1], y int64
    (N,) in 0..9, N = 60000 or 10000 (new arrays each call: see the module docstring)."""
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    data_dir = Path(data_dir)
    expected = _expected_checksums(data_dir)
    images_path, labels_path = (data_dir / name for name in SPLITS[split])
    (images, _), (labels, _) = (_verified(data_dir, name, expected) for name in SPLITS[split])
    count, rows, cols = _header(images, images_path, IMAGE_MAGIC, 3)
    (n_labels,) = _header(labels, labels_path, LABEL_MAGIC, 1)
    if n_labels != count:
        raise DataError(f"{images_path} holds {count} images but {labels_path} holds {n_labels} labels: {_RESTORE}.")
    # frombuffer views the cached bytes without copying; the float32 conversion makes the only copy.
    pixels = np.frombuffer(images, dtype=np.uint8, offset=16).reshape(count, rows * cols)
    X = np.divide(pixels, np.float32(255.0), dtype=np.float32)
    y = np.frombuffer(labels, dtype=np.uint8, offset=8).astype(np.int64)
    if y.size and y.max() >= N_CLASSES:
        raise DataError(f"The MNIST file {labels_path} holds label {int(y.max())}, outside 0..9: {_RESTORE}.")
    return X, y
