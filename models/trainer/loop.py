"""The one early-stopping loop every neural model here is trained with (the LSTM, the dense
baseline, the UCI network): run an epoch, score the validation samples, keep the state with the
best validation ROC-AUC, stop after `patience` epochs without a gain of at least `min_delta`."""

import copy
import math
import time

import numpy as np

from .metrics import roc_auc


def early_stopping(model, run_epoch, score_val, y_val, epochs, patience, log=None, name="", min_delta=1e-5):
    """Trains `model` in place and leaves it at its best epoch.

    `run_epoch(epoch)` trains one epoch and returns the mean training loss; `score_val()` returns
    validation scores (any monotone score: ROC-AUC only ranks). Returns a summary with the
    history. A validation AUC that cannot be computed (one class only, scores not all finite)
    never counts as a gain;
    then the last state is kept."""
    best_state, best_auc, best_epoch, bad = None, -math.inf, 0, 0
    history = []
    for ep in range(1, epochs + 1):
        t0 = time.time()
        loss = float(run_epoch(ep))
        scores = np.asarray(score_val(), np.float64)
        # A model that diverged (NaN or infinite scores) has no validation AUC: never a gain.
        auc = roc_auc(y_val, scores) if np.all(np.isfinite(scores)) else float("nan")
        gained = auc == auc and auc > best_auc + min_delta
        history.append({"epoch": ep, "loss": loss, "val_auc": auc, "seconds": time.time() - t0})
        if log:
            log(f"{name}epoch {ep}/{epochs}: loss {loss:.4f}, validation AUC {auc:.4f}{' (best)' if gained else ''}, "
                f"{time.time() - t0:.1f} s")
        if gained:
            best_state, best_auc, best_epoch, bad = copy.deepcopy(model.state_dict()), auc, ep, 0
        else:
            bad += 1
            if bad >= patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return {"best_val_auc": best_auc if best_state is not None else float("nan"), "best_epoch": best_epoch,
            "epochs_run": len(history), "history": history}


def minibatch_epoch(net, opt, lossf, forward, X, y, batch, rng):
    """One epoch of mini-batch training on the rows of `X` against `y` (tensors), in an order
    drawn from `rng`: `lossf(forward(X[b]), y[b])` per batch. Returns the mean loss."""
    import torch  # here, so that the torch-free model check can import this package

    net.train()
    perm = torch.from_numpy(rng.permutation(len(y)))
    tot = 0.0
    for i in range(0, len(perm), batch):
        b = perm[i:i + batch]
        loss = lossf(forward(X[b]), y[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
        tot += float(loss.detach()) * len(b)
    return tot / len(perm)
