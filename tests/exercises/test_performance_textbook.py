"""Stretch exercise (performance), the judge's side of the fast steps: its textbook and the slips it recognises
(the tests, their inputs and `check_steps` are in test_performance_steps.py; this file holds no test).

A fast step must compute what the textbook step computes: every expected value is the judge's own run of
the reference textbook layers (Linear, ReLU, Conv2d, MaxPool2d, Flatten, SoftmaxCrossEntropy, SGD) in
float64 on the same parameters and batches. The change of every parameter is checked step by step: step 1
is -lr times its gradient (the velocity starts at zero), each later step adds the momentum. A wrong step
is explained by running the textbook with a plausible slip built in (a bias gradient left out, a ReLU mask
left out, the learning rate applied twice, a buffer never cleared...) and saying which run it equals; until
a step differs, every earlier one agreed, so a slip that first shows in step t matches from step t on.
"""

import numpy as np


# lr, 1/lr and 1 - momentum differ from each other and from every batch size of the tests, so that a factor of
# one is told apart from the others. float32 end to end against a float64 textbook: a step's change of a
# parameter agrees to about 1e-6 of its size; a wrong step is off by more.
LR, MOMENTUM = 0.04, 0.9
RTOL, ATOL = 2e-3, 2e-6


# ---------------------------------------------------------------------------------------------------
# Slips, built into the judge's textbook layers (plain wrappers: the judge drives forward and backward)


class ReLUSlip:
    """A textbook ReLU with a slip: "no mask" (backward passes dL/dy through), "gradient ReLU'd" (backward
    keeps the positive entries of dL/dy instead of masking by x > 0), "no forward" (forward lets negative
    values through; backward still masks where the output > 0)."""

    def __init__(self, relu, kind):
        self.relu, self.kind = relu, kind

    def forward(self, x):
        self.x = x
        y = self.relu.forward(x)
        return x if self.kind == "no forward" else y

    def backward(self, grad):
        if self.kind == "no mask":
            return grad
        return np.maximum(grad, 0.0) if self.kind == "gradient ReLU'd" else self.relu.backward(grad)


class BiasSlip:
    """A textbook Linear or Conv2d whose bias takes part wrongly: "grad left out" (b keeps its value), "grad
    mean" (its gradient divided by the batch's n), "forward" (b left out of the forward only)."""

    def __init__(self, layer, kind):
        self.layer, self.kind = layer, kind

    def forward(self, x):
        y = self.layer.forward(x)
        b = self.layer.b.data
        return y - (b if y.ndim == 2 else b[:, None, None]) if self.kind == "forward" else y

    def backward(self, grad):
        before = self.layer.b.grad.copy()
        dx = self.layer.backward(grad)
        if self.kind != "forward":
            self.layer.b.grad[...] = before + (self.layer.b.grad - before) * (0.0 if self.kind == "grad left out"
                                                                             else 1.0 / len(grad))
        return dx


class CornerConv:
    """A textbook Conv2d whose input sits in the top-left corner of its zero-padded buffer, not centred."""

    def __init__(self, conv):
        self.conv, self.pad = conv, conv.padding

    def forward(self, x):
        n, c, h, w = x.shape
        padded = np.zeros((n, c, h + 2 * self.pad, w + 2 * self.pad))
        padded[:, :, :h, :w] = x
        self.shape, self.conv.padding = x.shape, 0
        y = self.conv.forward(padded)
        self.conv.padding = self.pad
        return y

    def backward(self, grad):
        self.conv.padding = 0
        dx = self.conv.backward(grad)
        self.conv.padding = self.pad
        return None if dx is None else dx[:, :, :self.shape[2], :self.shape[3]]


class ChannelsLastFlatten:
    """A Flatten that reads (N, C, H, W) features in (h, w, c) order: W3's rows taken in the wrong order."""

    def forward(self, x):
        self.shape = x.shape
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).reshape(len(x), -1)

    def backward(self, grad):
        n, c, h, w = self.shape
        return grad.reshape(n, h, w, c).transpose(0, 3, 1, 2)


class PoolTies:
    """2 x 2 max-pooling whose backward gives a tied window's gradient to EVERY position equal to its maximum
    ("all"), to the LAST one ("last") instead of the first, or to all four positions ("every")."""

    def __init__(self, kind):
        self.kind = kind

    def forward(self, x):
        n, c, h, w = x.shape
        self.x, self.y = x, x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
        return self.y

    def backward(self, grad):
        up = lambda a: a.repeat(2, axis=2).repeat(2, axis=3)  # noqa: E731
        tied = self.x == up(self.y)
        if self.kind == "every":
            tied = np.ones_like(tied)
        if self.kind == "last":  # keep a position only if no later one (row-major within its window) is tied
            n, c, h, w = tied.shape
            windows = tied.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2,
                                                                                                  w // 2, 4)
            last = np.eye(4, dtype=bool)[3 - np.argmax(windows[..., ::-1], axis=-1)]
            tied = last.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h, w)
        return up(grad) * tied


class InputGradientSlip:
    """The second convolution, its dL/dx as a fast step with a slip computes it. "stale": the padded buffer is
    never cleared (each step returns the sum of all steps' dL/dx so far). "assigned": col2im writes each kernel
    offset's block with = instead of +=. "swapped": offset (i, j)'s block added at (j, i)."""

    def __init__(self, conv, kind):
        self.conv, self.kind, self.total = conv, kind, None

    def forward(self, x):
        self.x_shape = x.shape
        return self.conv.forward(x)

    def backward(self, grad):
        dx = self.conv.backward(grad)
        if self.kind == "stale":
            if self.total is None:
                self.total = dx.copy()  # the first batch is a full one
            else:
                self.total[:len(dx)] += dx  # a shorter batch uses the first rows of the buffer
            return self.total[:len(dx)].copy()
        W = self.conv.W.data
        k, pad = W.shape[2], self.conv.padding
        n, c, height, width = self.x_shape
        padded = np.zeros((n, c, height + 2 * pad, width + 2 * pad))
        for i in range(k):
            for j in range(k):
                block = np.einsum("nohw,oc->nchw", grad, W[:, :, i, j])
                if self.kind == "assigned":
                    padded[:, :, i:i + height, j:j + width] = block
                else:
                    padded[:, :, j:j + height, i:i + width] += block
        return padded[:, :, pad:pad + height, pad:pad + width]


# v, g -> (the new velocity, the parameter's change): the docstrings' rule v = momentum v + g, w -= lr v, slipped
UPDATES = {
    "sgd": lambda v, g: (MOMENTUM * v + g, -LR * (MOMENTUM * v + g)),
    "no momentum": lambda v, g: (g, -LR * g),
    "momentum on the gradient": lambda v, g: (v + MOMENTUM * g, -LR * (v + MOMENTUM * g)),
    "old velocity": lambda v, g: (MOMENTUM * v + g, -LR * v),
    "dampened": lambda v, g: (MOMENTUM * v + (1 - MOMENTUM) * g, -LR * (MOMENTUM * v + (1 - MOMENTUM) * g)),
    "lr twice": lambda v, g: (MOMENTUM * v + g, -LR * LR * (MOMENTUM * v + g)),
    "no lr": lambda v, g: (MOMENTUM * v + g, -(MOMENTUM * v + g)),
    "no decay": lambda v, g: (v + g, -LR * (v + g)),
    "momentum twice": lambda v, g: (MOMENTUM ** 2 * v + g, -LR * (MOMENTUM ** 2 * v + g)),
}


class Update:
    """SGD with momentum by one of UPDATES, able to update some parameters early (once per step)."""

    def __init__(self, parameters, rule, start=0.0):  # the velocity's first value (ones: 1 / lr with lr folded in)
        self.parameters, self.rule = parameters, UPDATES[rule]
        self.velocity = {id(p): np.full_like(p.data, start) for p in parameters}
        self.done = set()

    def zero_grad(self):
        for p in self.parameters:
            p.grad[...] = 0.0

    def step(self, only=None):
        for p in self.parameters if only is None else only:
            if id(p) not in self.done:
                self.velocity[id(p)], change = self.rule(self.velocity[id(p)], p.grad)
                p.data += change
                self.done.add(id(p))
        if only is None:
            self.done = set()


def textbook_run(ref, layers, parameters, batches, *, batch_size, update=None, clear=True, last_divided=False,
                 columns=None, early_update=False, loss_grad=None, start=0.0):
    """Train the judge's layers on the batches as the fast step should (or with the slips named); (losses,
    [the parameters before any step, after step 1, after step 2, ...], [the logits of each step])."""
    optimizer = ref.optim.SGD(parameters, lr=LR, momentum=MOMENTUM) if update is None and not early_update \
        else Update(parameters, update or "sgd", start)
    loss_fn = ref.losses.SoftmaxCrossEntropy()
    losses, trajectory, logits = [], [[p.data.copy() for p in parameters]], []
    for index, (x, labels) in enumerate(batches):
        x = np.asarray(x, dtype=np.float64)
        x = x if columns is None else np.where(columns(x, np.asarray(batches[0][0])), x, 0.0)
        if clear:
            optimizer.zero_grad()
        h = x
        for layer in layers:
            h = layer.forward(h)
        logits.append(h)
        losses.append(loss_fn.forward(h, labels))
        grad = loss_fn.backward() * (len(x) / batch_size if last_divided and index == len(batches) - 1 else 1.0)
        if loss_grad is not None:  # a slip of the fused gradient, as dL/dlogits: onehot (n, classes)
            grad = loss_grad(grad, np.eye(grad.shape[1])[labels], len(x))
        for layer in reversed(layers):
            grad_out, grad = grad, layer.backward(grad)
            if early_update and hasattr(layer, "W"):  # the weights updated before their dL/dx is computed
                optimizer.step(only=(layer.W, layer.b))
                kept = layer.W.grad.copy(), layer.b.grad.copy()
                grad = layer.backward(grad_out)
                layer.W.grad[...], layer.b.grad[...] = kept
        optimizer.step()
        trajectory.append([p.data.copy() for p in parameters])
    return np.array(losses), trajectory, logits


def textbook_mlp(ref, params):
    layers = []
    for index in range(0, len(params), 2):
        if index:
            layers.append(ref.activations.ReLU())
        layers.append(ref.layers.Linear(*params[index].shape, rng=np.random.default_rng(0)))
    parameters = [p for layer in layers if hasattr(layer, "W") for p in (layer.W, layer.b)]
    for p, value in zip(parameters, params):
        p.data[...] = value
    return layers, parameters


def textbook_cnn(ref, params):
    conv = ref.conv
    (c1, c0, k, _), c2 = params[0].shape, params[2].shape[0]
    first = conv.Conv2d(c0, c1, k, padding=k // 2, rng=np.random.default_rng(0))
    second = conv.Conv2d(c1, c2, k, padding=k // 2, rng=np.random.default_rng(0))
    last = ref.layers.Linear(*params[4].shape, rng=np.random.default_rng(0))
    parameters = [first.W, first.b, second.W, second.b, last.W, last.b]
    for p, value in zip(parameters, params):
        p.data[...] = value
    return [first, conv.MaxPool2d(2), ref.activations.ReLU(), second, conv.MaxPool2d(2), ref.activations.ReLU(),
            conv.Flatten(), last], parameters


# ---------------------------------------------------------------------------------------------------
# The slips, each a change of the judge's layers, options of its run, and what it says when it matches


def replaced(pick, make):
    """A change of the judge's layers: each layer that pick(index, layer) selects becomes make(layer)."""
    return lambda layers: [make(layer) if pick(index, layer) else layer for index, layer in enumerate(layers)]


SAME = replaced(lambda index, layer: False, None)
WEIGHTED = lambda index, layer: hasattr(layer, "W")  # noqa: E731
RELU = lambda index, layer: type(layer).__name__ == "ReLU"  # noqa: E731

ONE = dict(per_parameter=True)  # a slip one parameter's update can make alone (the others right)
UPDATE_SLIPS = [(SAME, {**ONE, **options}, text) for options, text in (
    (dict(clear=False), "what the textbook computes when the gradients of earlier steps are never cleared: a reused "
     "gradient buffer was added to (+=) without being reset; write it with out= (or clear it) each step."),
    (dict(update="no momentum"), "what SGD WITHOUT momentum computes: the velocity was overwritten (=) where it must "
     "accumulate (u *= momentum, then u += g)."),
    (dict(update="momentum on the gradient"), "what SGD computes when momentum multiplies the gradient (v += momentum "
     "* g) and the velocity never decays: v = momentum * v + g decays the old velocity, then adds the whole gradient."),
    (dict(update="old velocity", per_parameter=False), "what SGD computes when each parameter moves by the velocity "
     "of the previous step (w -= lr v before v is updated, so step 1 moves nothing): update the velocity first, then "
     "step with it."),
    (dict(update="dampened"), "what SGD with dampening computes, v = momentum v + (1 - momentum) g: the docstring's "
     "rule adds the whole gradient, v = momentum v + g."),
    (dict(update="lr twice"), "what the step computes with the learning rate applied twice (folded into the loss's "
     "gradient as lr / n, and again as w -= lr * u at the update): apply lr once."),
    (dict(update="no lr"), "what the step computes without the learning rate (w -= v): lr must scale the step once, "
     "in the loss's gradient (lr / n) or in the update."),
    (dict(update="no decay"), "what SGD computes when the velocity never decays (v += g, no v *= momentum): v = "
     "momentum * v + g."),
    (dict(update="momentum twice"), "what SGD computes when the velocity is multiplied by momentum twice per step "
     "(momentum squared): v = momentum * v + g, once."),
    *((dict(update="sgd", start=start), "what SGD computes with the velocity starting at ones: it starts at zeros "
       "(np.zeros_like), so that step 1 moves by lr * g alone.") for start in (1.0, 1 / LR)))] + [
    (replaced(WEIGHTED, lambda layer: BiasSlip(layer, "forward")), {}, "what the step computes when the biases are "
     "left out of every layer's forward (y without + b) while their gradients are still computed."),
    (SAME, dict(last_divided=True), "what the textbook computes if the last, shorter batch is averaged over batch_size "
     "instead of its own n: divide by len(x)."),
    (replaced(WEIGHTED, lambda layer: BiasSlip(layer, "grad left out")), ONE, "what the step computes when the bias "
     "gradients are left out (each b keeps its value, or its gradient is never written): dL/db is the sum over "
     "the batch of dL/dy, 1^T G."),
    (replaced(WEIGHTED, lambda layer: BiasSlip(layer, "grad mean")), ONE, "what the step computes when each bias "
     "gradient is the MEAN over the batch (divided by n once more): the loss's gradient already carries 1/n, so "
     "dL/db is the SUM over the batch of dL/dy."),
    (SAME, dict(loss_grad=lambda g, onehot, n: g + onehot / n - onehot / LR), "what the step computes when the "
     "loss's gradient subtracts 1 at the labels where it must subtract the scale (lr / n, with lr folded in): "
     "(softmax - onehot) is scaled as a whole."),
    (SAME, dict(loss_grad=lambda g, onehot, n: g + onehot / n - onehot), "what the step computes when the loss's "
     "gradient subtracts 1 at the labels, not 1/n: (softmax - onehot) / n is divided by n as a whole."),
    (SAME, dict(loss_grad=lambda g, onehot, n: g + onehot / n), "what the step computes when the loss's gradient "
     "is softmax alone, the one-hot labels never subtracted: (softmax - onehot) / n."),
    (replaced(RELU, lambda layer: ReLUSlip(layer, "gradient ReLU'd")), {}, "what the step computes when the ReLUs' "
     "backward keeps the POSITIVE entries of dL/dy (np.maximum(g, 0), a ReLU applied to the gradient): the mask comes "
     "from the forward's values (out > 0), not from the gradient's sign."),
]


def nth(kind, k, make):
    """A change of the judge's layers: the k-th layer of a kind (WEIGHTED or RELU) becomes make(layer)."""
    def change(layers):
        where = [index for index, layer in enumerate(layers) if kind(index, layer)][k]
        return [make(layer) if index == where else layer for index, layer in enumerate(layers)]
    return change


def bias_forward_slips(layer_names):
    """The bias of one layer left out of its forward (its gradient still computed), one slip per layer."""
    return [(nth(WEIGHTED, k, lambda layer: BiasSlip(layer, "forward")), {}, f"what the step computes when the bias "
             f"of {name} is left out of its forward (y without + b) while its gradient is still computed: add b in "
             "every layer's forward.") for k, name in enumerate(layer_names)]


COLUMNS = {  # (x (n, in), the first batch's x) -> the columns a slipped FastMLP keeps (the right ones: x.any(axis=0))
    "only the columns nonzero in the FIRST image: a column may be skipped only when it is zero in every image of "
    "the batch (x.any(axis=0) keeps the others).": lambda x, first: x[0] != 0,
    "only the columns nonzero in EVERY image (all instead of any): a column is needed when any image of the batch "
    "has a nonzero there (x.any(axis=0)).": lambda x, first: (x != 0).all(axis=0),
    "the columns found along the wrong axis (x.any(axis=1) gives one flag per image, not one per column): a column "
    "is used when any image has a nonzero there, x.any(axis=0).":
        lambda x, first: np.isin(np.arange(x.shape[1]), np.flatnonzero(x.any(axis=1))),
    "the used columns of the FIRST batch for every batch (found once, then stale): each batch has its own zero "
    "columns; find them again in every step.": lambda x, first: first.any(axis=0),
}


def mlp_slips(count):
    """The slips of a FastMLP step with `count` Linear layers."""
    hidden = [f"layer {k + 1}" for k in range(count)]
    return UPDATE_SLIPS + bias_forward_slips(hidden) + [
        (replaced(RELU, lambda layer: ReLUSlip(layer, "no forward")), {}, "what the step computes when the ReLUs are "
         "left out of the forward (negative values pass on) while backward still masks where out > 0: ReLU in "
         "place, np.maximum(out, 0, out=out), after each hidden layer."),
        (replaced(RELU, lambda layer: ReLUSlip(layer, "no mask")), {}, "what the step computes when the ReLUs' mask is "
         "left out of backward: dL/dx of a ReLU is dL/dy where its input was > 0 and 0 elsewhere (times out > 0)."),
        (lambda layers: layers + [type(layers[1])()], {},
         "what the step computes with a ReLU on the last layer's output too: the logits go to the loss as they are; "
         "only the hidden layers have a ReLU (an off-by-one in `k < last`?)."),
        (SAME, dict(early_update=True), "what the step computes when each layer is updated as soon as its gradients "
         "are known, before the dL/dx that goes on to the layer below is computed with its weights: backward must "
         "use the weights of the forward (the old weights); update every parameter after the whole backward."),
    ] + [(SAME, dict(columns=rule), f"what the step computes when it keeps {text}") for text, rule in COLUMNS.items()]


def cnn_slips(image_shape):
    """The slips of a FastCNN step on images of this (C0, H, W)."""
    slips = UPDATE_SLIPS + bias_forward_slips(["the first convolution", "the second convolution", "the Linear layer"])
    for where, which in [("each pooling", None), *((f"the {w} pooling", k) for k, w in enumerate(("first", "second")))]:
        def slipped(kind, which=which):
            make = lambda layer: ReLUSlip(layer, kind)  # noqa: E731
            return replaced(RELU, make) if which is None else nth(RELU, which, make)
        slips += [(slipped("no forward"), {}, f"what the step computes when the ReLU after {where} is left out of "
                   "the forward (negative maxima pass on, backward still masks where out > 0): clamp at 0, out = "
                   "max(0, max of the window)."),
                  (slipped("no mask"), {}, f"what the step computes when the ReLU after {where} is left out of "
                   "backward: the gradient may pass only where the pooled value was > 0 (times the mask out > 0).")]
    slips += [
        (nth(WEIGHTED, 0, CornerConv), {}, "what the first convolution computes when each image is copied into the "
         "top-left corner of its zero-padded buffer instead of its interior: x goes to [pad:pad + H, pad:pad + W], "
         "with pad zeros on every side."),
        (replaced(lambda index, layer: type(layer).__name__ == "Flatten", lambda layer: ChannelsLastFlatten()), {},
         "what a model computes whose Linear layer reads channels-last (h, w, c) features with W3's rows still in "
         "Flatten's (c, h, w) order: permute W3's rows once, in __init__ (and back in parameters())."),
        (replaced(lambda index, layer: type(layer).__name__ == "MaxPool2d", lambda layer: PoolTies("all")), {},
         "what max-pooling computes when a tied window gives its gradient to EVERY position equal to its maximum: "
         "only the first one (row-major within the window) may take it."),
        (replaced(lambda index, layer: type(layer).__name__ == "MaxPool2d", lambda layer: PoolTies("last")), {},
         "what max-pooling computes when a tied window gives its gradient to its LAST maximum: the first one "
         "(row-major within the window) takes it, and a later tie gets nothing."),
        (replaced(lambda index, layer: type(layer).__name__ == "MaxPool2d", lambda layer: PoolTies("every")), {},
         "what max-pooling computes when each window's gradient goes to ALL FOUR of its positions: only the "
         "window's (first) maximum gets it, the others 0."),
        (nth(WEIGHTED, 1, lambda layer: InputGradientSlip(layer, "stale")), {}, "what the textbook computes if the "
         "buffer collecting the second convolution's dL/dx is never cleared between steps: a stale buffer adds the "
         "old steps' gradients; set it to zero at the start of each step."),
        (nth(WEIGHTED, 1, lambda layer: InputGradientSlip(layer, "assigned")), {}, "what col2im computes with = "
         "instead of +=: where windows overlap, only the last kernel offset's contribution survives; add each "
         "offset's block into the buffer.")]
    if image_shape[1] == image_shape[2]:  # offsets (j, i) fit a square image only
        slips.append((nth(WEIGHTED, 1, lambda layer: InputGradientSlip(layer, "swapped")), {}, "what col2im computes "
                      "when kernel offset (i, j)'s block is added at (j, i), its offsets swapped: the block of offset "
                      "(i, j) goes to rows i:i + h and columns j:j + w of the padded buffer."))
    return slips
