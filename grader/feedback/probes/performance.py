"""Probe for `make compare EX=performance`: two steps of the fast MLP and of the fast CNN.

Small float32 problems (an MLP 12-8-6-4 on batches of 6 whose first features are always zero, as MNIST's
border pixels; a CNN on 1 x 8 x 8 images with a flat zero corner, so max-pooling windows there are
tied), the same parameters and batches for your code and the reference's, then the loss of each step and
every parameter as parameters() gives it back. The profiler's timings differ from run to run and are
not compared (its tests check them).
"""

import numpy as np

LR, MOMENTUM = 0.1, 0.9


def probe(m, rng, out=None):
    results = {} if out is None else out
    sizes, batch = (12, 8, 6, 4), 6
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params += [(rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32),
                   (0.1 * rng.standard_normal(n_out)).astype(np.float32)]
    batches = []
    for n in (batch, batch - 2):
        x = rng.random((n, sizes[0])).astype(np.float32)
        x[:, :3] = 0.0
        batches.append((x, rng.integers(0, sizes[-1], n)))
    shape, classes = (1, 8, 8), 5
    cnn_params = [(rng.standard_normal((3, 1, 3, 3)) / 3).astype(np.float32),
                  rng.uniform(0.1, 0.5, 3).astype(np.float32),
                  (rng.standard_normal((4, 3, 3, 3)) / 5).astype(np.float32),
                  (0.1 * rng.standard_normal(4)).astype(np.float32),
                  (rng.standard_normal((16, classes)) / 4).astype(np.float32),
                  (0.1 * rng.standard_normal(classes)).astype(np.float32)]
    images = []
    for n in (4, 3):
        x = rng.random((n, *shape)).astype(np.float32)
        x[:, :, :4, :4] = 0.0
        images.append((x, rng.integers(0, classes, n)))

    fast = m.performance.FastMLP(params, lr=LR, momentum=MOMENTUM, batch_size=batch)
    for step, (x, labels) in enumerate(batches, start=1):
        results[f"FastMLP step {step}: loss"] = fast.step(x, labels)
    for index, value in enumerate(fast.parameters()):
        results[f"FastMLP after 2 steps: {'Wb'[index % 2]}{index // 2 + 1}"] = np.array(value)

    fast = m.performance.FastCNN(cnn_params, lr=LR, momentum=MOMENTUM, batch_size=4, image_shape=shape)
    for step, (x, labels) in enumerate(images, start=1):
        results[f"FastCNN step {step}: loss"] = fast.step(x, labels)
    for index, value in enumerate(fast.parameters()):
        results[f"FastCNN after 2 steps: {'Wb'[index % 2]}{index // 2 + 1}"] = np.array(value)
    return results
