# milestone: mnist; appended to: training.py; expect: your checkpoint 1 is not what
# Embedded pretrained weights. Weights trained elsewhere (here: from another initialisation, on the
# first 2,000 images) replace the model's before the honest fit runs on top of them. The judge set the
# initial weights itself and replays every segment from them.
if "build_mnist_model" in globals():
    _honest_fit = fit

    def fit(model, loss_fn, optimizer, X_train, y_train, *args, **kwargs):
        elsewhere = build_mnist_model(np.random.default_rng(7))
        inner = type(optimizer._inner if hasattr(optimizer, "_inner") else optimizer)
        other = inner(elsewhere.parameters(), lr=0.1, momentum=0.9)
        for _ in range(2):
            train_epoch(elsewhere, type(loss_fn._inner if hasattr(loss_fn, "_inner") else loss_fn)(), other,
                        X_train[:2000], y_train[:2000], batch_size=128, rng=np.random.default_rng(7))
        for mine, theirs in zip(model.parameters(), elsewhere.parameters()):
            mine.data[...] = theirs.data
        return _honest_fit(model, loss_fn, optimizer, X_train, y_train, *args, **kwargs)
