import numpy as np


def logsumexp(z, axis=-1, keepdims=False):
    a = _as_float(z)
    m = np.amax(a, axis=axis, keepdims=True)
    s = np.log(np.add.reduce(np.exp(a - m), axis=axis, keepdims=True))
    out = m + s
    return out if keepdims else np.take(out, 0, axis=axis)


def softmax(z, axis=-1):
    a = _as_float(z)
    e = np.exp(a - np.amax(a, axis=axis, keepdims=True))
    total = np.add.reduce(e, axis=axis, keepdims=True)
    return e / total


def log_softmax(z, axis=-1):
    a = _as_float(z)
    m = np.amax(a, axis=axis, keepdims=True)
    return (a - m) - np.log(np.add.reduce(np.exp(a - m), axis=axis, keepdims=True))


class SoftmaxCrossEntropy:
    def forward(self, logits, labels):
        x = _as_float(logits)
        y = np.asarray(labels)
        if x.ndim != 2:
            raise ValueError("expected 2-D logits of shape (N, C); got %d-D shape %s" % (x.ndim, x.shape))
        if y.dtype.kind not in ("i", "u"):
            raise ValueError("labels are %s; they must be integer class indices" % y.dtype)
        if y.ndim != 1 or len(y) != len(x):
            raise ValueError("labels of shape %s do not match %d logits rows" % (y.shape, len(x)))
        for label in y:
            if not 0 <= label < x.shape[1]:
                raise ValueError("got label %d for %d classes" % (label, x.shape[1]))
        lp = log_softmax(x)
        self._log_probs = lp
        self._labels = y
        chosen = np.take_along_axis(lp, y[:, None], axis=1)
        return float(-chosen.sum() / len(y))

    def backward(self):
        if self._log_probs is None or self._labels is None:
            raise RuntimeError("SoftmaxCrossEntropy.backward needs a forward first")
        g = np.exp(self._log_probs)
        rows = len(g)
        np.put_along_axis(g, self._labels[:, None], np.take_along_axis(g, self._labels[:, None], 1) - 1, 1)
        g /= rows
        return g
