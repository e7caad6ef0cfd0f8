# milestone: mnist; appended to: losses.py; expect: the loss became nan
# A NaN loss. The gradients are right, but every loss value is NaN (a log(0) the learner never noticed);
# once, a run like this passed with test labels from a table. A NaN loss fails with its own sentence.
if "SoftmaxCrossEntropy" in globals():
    _honest_loss_forward = SoftmaxCrossEntropy.forward

    def _nan_forward(self, logits, labels):
        _honest_loss_forward(self, logits, labels)
        return float("nan")

    SoftmaxCrossEntropy.forward = _nan_forward
