import numpy as np


def logsumexp(z, axis=-1, keepdims=False):
    values = _as_float(z)
    peak = values.max(axis=axis, keepdims=True)
    result = np.log(np.exp(values - peak).sum(axis=axis, keepdims=True)) + peak
    if not keepdims:
        result = result.squeeze(axis=axis)
    return result


def softmax(z, axis=-1):
    return np.exp(log_softmax(z, axis=axis))


def log_softmax(z, axis=-1):
    values = _as_float(z)
    centred = values - values.max(axis=axis, keepdims=True)
    return centred - np.log(np.exp(centred).sum(axis=axis, keepdims=True))


class SoftmaxCrossEntropy:
    def _check(self, logits, labels):
        problems = []
        if logits.ndim != 2:
            problems.append(f"logits should be 2-D, not of shape {logits.shape}")
        elif labels.dtype.kind not in "iu":
            problems.append(f"labels should be integers, not {labels.dtype}")
        elif labels.shape != logits.shape[:1]:
            problems.append(f"labels should have shape {logits.shape[:1]}, not {labels.shape}")
        else:
            bad = labels[(labels < 0) | (labels >= logits.shape[1])]
            if bad.size:
                problems.append(f"got label {bad[0]} for {logits.shape[1]} classes")
        if problems:
            raise ValueError("; ".join(problems))

    def forward(self, logits, labels):
        logits, labels = _as_float(logits), np.asarray(labels)
        self._check(logits, labels)
        onehot = np.eye(logits.shape[1], dtype=logits.dtype)[labels]
        log_probs = log_softmax(logits)
        self._log_probs, self._labels = log_probs, labels
        return -float((onehot * log_probs).sum()) / logits.shape[0]

    def backward(self):
        if self._labels is None:
            raise RuntimeError("call forward before backward")
        probs = np.exp(self._log_probs)
        onehot = np.eye(probs.shape[1], dtype=probs.dtype)[self._labels]
        return (probs - onehot) / probs.shape[0]
