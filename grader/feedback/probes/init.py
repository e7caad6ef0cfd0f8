"""`make compare EX=init`: draws and their statistics, learner's versus reference.

The small draws match the reference exactly when the same generator method is used (rng.uniform(-a, a),
rng.normal(0, std)). The variance over 240,000 draws divided by the formula's is 1.0 (to one decimal)
whichever method draws them; 0.7, 0.5 or 0.3 names a wrong formula (fan_out, a missing 2, a = sqrt(Var)).
"""

import numpy as np

FAN_IN, FAN_OUT = 400, 600


def probe(m, rng):
    seed = int(rng.integers(2 ** 31))
    results = {}
    targets = {"xavier_uniform": 2.0 / (FAN_IN + FAN_OUT), "xavier_normal": 2.0 / (FAN_IN + FAN_OUT),
               "he_uniform": 2.0 / FAN_IN, "he_normal": 2.0 / FAN_IN}
    for name, variance in targets.items():
        init = getattr(m.init, name)
        results[f"{name}(3, 4)"] = init(3, 4, np.random.default_rng(seed))
        big = init(FAN_IN, FAN_OUT, np.random.default_rng(seed))
        # Rounded to 1 decimal so that sampling noise (about 0.3%) never counts as a difference.
        results[f"{name}: Var / formula"] = round(float(np.mean(big ** 2)) / variance, 1)
    return results
