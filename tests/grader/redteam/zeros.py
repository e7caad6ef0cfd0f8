# The baseline: every method returns zeros (or nothing) of the right shape; no attack.
def _parameter_init(self, data):
    self.data = np.asarray(data, dtype=float)
    self.grad = np.zeros_like(self.data)


def _layer_init(self):
    self.training = True


def _linear_init(self, in_features, out_features, rng=None, init=None, dtype=np.float64):
    Layer.__init__(self)
    self.W = Parameter(np.zeros((in_features, out_features), dtype=dtype))
    self.b = Parameter(np.zeros(out_features, dtype=dtype))
    self.input_gradient = True


Parameter.__init__ = _parameter_init
Layer.__init__ = _layer_init
Layer.__call__ = lambda self, x: self.forward(x)
Layer.named_parameters = lambda self: []
Layer.parameters = lambda self: []
Layer.zero_grad = lambda self: None
Layer.train = lambda self: self
Layer.eval = lambda self: self
Linear.__init__ = _linear_init
Linear.forward = lambda self, x: np.zeros((np.shape(x)[0], self.W.data.shape[1]))
Linear.backward = lambda self, grad_out: np.zeros((np.shape(grad_out)[0], self.W.data.shape[0]))
