"""The grader's MNIST loader (grader/data/mnist.py): not an exercise, the data the milestones train on.

The real files must verify and load; each kind of damage (in a temporary copy of data/mnist/) must raise
DataError with a message saying what is wrong and what to do. Expected values come from the checksum
list and from an independent parse of the IDX bytes with gzip and struct.
"""

import gzip
import shutil
import struct

import numpy as np
import pytest

from grader.data import mnist


def read_checksums(path):
    """{file name: sha256} from a SHA256SUMS file, parsed here independently of the loader."""
    sums = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            fields = line.split()
            sums[fields[-1]] = fields[0]
    return sums


def raw_labels(path):
    """Labels straight from the IDX bytes: big-endian header (magic, count), then one byte each."""
    data = gzip.decompress(path.read_bytes())
    magic, count = struct.unpack(">ii", data[:8])
    return magic, count, np.array(list(data[8:]), dtype=np.int64)


@pytest.fixture
def data_copy(tmp_path):
    """A private copy of data/mnist/ to damage."""
    copy = tmp_path / "mnist"
    shutil.copytree(mnist.DATA_DIR, copy, ignore=shutil.ignore_patterns(".decoded"))
    return copy


def rewrite_checksum(data_dir, name):
    """Make SHA256SUMS agree with the (modified) file, so the next check in line is reached."""
    import hashlib

    digest = hashlib.sha256(gzip.decompress((data_dir / name).read_bytes())).hexdigest()
    sums = data_dir / mnist.CHECKSUMS
    lines = [(f"{digest}  {name}" if line.split() and line.split()[-1] == name else line)
             for line in sums.read_text().splitlines()]
    sums.write_text("\n".join(lines) + "\n")


def test_mnist_data_the_vendored_files_match_their_checksums():
    expected = read_checksums(mnist.DATA_DIR / "SHA256SUMS")
    got = mnist.verify()
    assert set(got) == set(mnist.FILES) == set(expected), f"verify() checked {sorted(got)}"
    assert got == {name: expected[name] for name in mnist.FILES}


def test_mnist_data_the_splits_have_the_documented_shapes_dtypes_and_ranges():
    for split, count in (("train", 60000), ("test", 10000)):
        X, y = mnist.load(split)
        assert X.shape == (count, 784) and X.dtype == np.float32, f"{split}: X is {X.dtype} {X.shape}"
        assert y.shape == (count,) and y.dtype == np.int64, f"{split}: y is {y.dtype} {y.shape}"
        assert X.min() == 0.0 and X.max() == 1.0, f"{split}: pixels span [{X.min()}, {X.max()}], not [0, 1]"
        assert set(np.unique(y).tolist()) == set(range(10)), f"{split}: labels {np.unique(y)}"


def test_mnist_data_values_equal_an_independent_parse_of_the_idx_bytes():
    X, y = mnist.load("test")
    magic, count, labels = raw_labels(mnist.DATA_DIR / "t10k-labels-idx1-ubyte.gz")
    assert (magic, count) == (2049, 10000)
    np.testing.assert_array_equal(y, labels)
    pixels = gzip.decompress((mnist.DATA_DIR / "t10k-images-idx3-ubyte.gz").read_bytes())
    assert struct.unpack(">iiii", pixels[:16]) == (2051, 10000, 28, 28)
    last = np.array(list(pixels[16 + 9999 * 784:]), dtype=np.float64) / 255.0
    np.testing.assert_allclose(X[-1], last, rtol=1e-6)


def test_mnist_data_each_load_returns_arrays_the_caller_may_modify():
    X, y = mnist.load("test")
    X *= 0.0
    y[:] = -1
    X2, y2 = mnist.load("test")
    assert X2.max() == 1.0 and y2.min() == 0, "modifying one load's arrays changed the next load's"


def test_mnist_data_a_wrong_split_name_is_a_value_error():
    with pytest.raises(ValueError, match="train"):
        mnist.load("validation")


def test_mnist_data_a_missing_file_says_how_to_restore_it(data_copy):
    (data_copy / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(mnist.DataError, match=r"missing.*git checkout data/"):
        mnist.verify(data_copy)


def test_mnist_data_a_git_lfs_pointer_is_recognised(data_copy):
    (data_copy / "t10k-labels-idx1-ubyte.gz").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 4517\n")
    with pytest.raises(mnist.DataError, match="git-lfs pointer"):
        mnist.load("test", data_copy)


def test_mnist_data_a_truncated_gzip_is_reported(data_copy):
    path = data_copy / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(mnist.DataError, match="truncated or not valid gzip"):
        mnist.load("test", data_copy)


def test_mnist_data_a_changed_file_fails_its_checksum_even_after_a_successful_check(data_copy):
    mnist.load("test", data_copy)  # fills the caches for the intact file
    path = data_copy / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(gzip.decompress(path.read_bytes()))
    data[100] = (data[100] + 1) % 10
    path.write_bytes(gzip.compress(bytes(data)))
    with pytest.raises(mnist.DataError, match="wrong checksum"):
        mnist.load("test", data_copy)


def test_mnist_data_a_bad_idx_magic_number_is_reported(data_copy):
    name = "t10k-labels-idx1-ubyte.gz"
    data = bytearray(gzip.decompress((data_copy / name).read_bytes()))
    data[:4] = struct.pack(">i", 2051)  # an image magic in a label file
    (data_copy / name).write_bytes(gzip.compress(bytes(data)))
    rewrite_checksum(data_copy, name)
    with pytest.raises(mnist.DataError, match="magic number 2051, expected 2049"):
        mnist.load("test", data_copy)


def test_mnist_data_a_header_that_disagrees_with_the_length_is_reported(data_copy):
    name = "t10k-labels-idx1-ubyte.gz"
    data = bytearray(gzip.decompress((data_copy / name).read_bytes()))
    data[4:8] = struct.pack(">i", 10001)
    (data_copy / name).write_bytes(gzip.compress(bytes(data)))
    rewrite_checksum(data_copy, name)
    with pytest.raises(mnist.DataError, match="IDX header"):
        mnist.load("test", data_copy)


def test_mnist_data_the_training_split_loads_without_the_test_files(data_copy):
    # The learner's half of a milestone loads the training split only; the test labels may be absent.
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (data_copy / name).unlink()
    X, y = mnist.load("train", data_copy)
    assert X.shape == (60000, 784) and y.shape == (60000,)


def test_a_second_process_reads_the_decoded_bytes_instead_of_decompressing(data_copy, monkeypatch):
    monkeypatch.setattr(mnist, "DATA_DIR", data_copy)
    monkeypatch.setattr(mnist, "DECODED", data_copy / ".decoded")
    monkeypatch.setattr(mnist, "_CACHE", {})
    first = mnist.load("test", data_copy)
    # The images only: the labels are small, and the test set's must stay as unreadable as their .gz.
    assert [p.name.split(".gz.")[0] for p in (data_copy / ".decoded").iterdir()] == ["t10k-images-idx3-ubyte"]
    monkeypatch.setattr(mnist, "_CACHE", {})  # a new process: only the files on disk remain
    decompress = mnist.gzip.decompress
    monkeypatch.setattr(mnist.gzip, "decompress", lambda raw: pytest.fail("decompressed again") if len(raw) > 10**6
                        else decompress(raw))
    second = mnist.load("test", data_copy)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
