import numpy as np


def logsumexp(z, axis=-1, keepdims=False):
    z = _as_float(z)
    top = np.max(z, axis=axis, keepdims=True)
    total = top + np.log(np.sum(np.exp(z - top), axis=axis, keepdims=True))
    return total if keepdims else np.squeeze(total, axis=axis)


def softmax(z, axis=-1):
    z = _as_float(z)
    shifted = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


def log_softmax(z, axis=-1):
    z = _as_float(z)
    return z - logsumexp(z, axis=axis, keepdims=True)


class SoftmaxCrossEntropy:
    def forward(self, logits, labels):
        logits = _as_float(logits)
        labels = np.asarray(labels)
        if logits.ndim != 2:
            raise ValueError(f"logits must be 2-D (N, C), got shape {logits.shape}")
        n, classes = logits.shape
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
        if labels.shape != (n,):
            raise ValueError(f"labels must have shape ({n},), got {labels.shape}")
        if labels.size and labels.min() < 0:
            raise ValueError(f"got label {labels.min()}: labels must be >= 0")
        if labels.size and labels.max() >= classes:
            raise ValueError(f"got label {labels.max()} for {classes} classes")
        self._log_probs = log_softmax(logits, axis=1)
        self._labels = labels
        picked = self._log_probs[np.arange(n), labels]
        return float(-np.mean(picked))

    def backward(self):
        if self._log_probs is None:
            raise RuntimeError("backward() called before forward()")
        n = self._log_probs.shape[0]
        grad = np.exp(self._log_probs)
        grad[np.arange(n), self._labels] -= 1
        return grad / n
