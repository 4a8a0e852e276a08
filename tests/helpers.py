"""Independent loss computations for the tests: on the samples, never from moments."""
import numpy as np


def sample_loss(W, X, Y):
    """(1/n)‖WX − Y‖², computed on the samples (the paper's eq. (7) data term)."""
    return float(np.sum((W @ X - Y) ** 2) / X.shape[1])


def augmented_sample_loss(W, X, Y, elements, weights=None):
    """(1/(n|G|)) Σ_g ‖W ρ(g) X − Y‖², by materialising the augmented data set."""
    w = np.full(len(elements), 1.0 / len(elements)) if weights is None else np.asarray(weights) / np.sum(weights)
    return float(sum(wg * np.sum((W @ g @ X - Y) ** 2) for wg, g in zip(w, elements)) / X.shape[1])


def truncate(W, r):
    """Best rank-r approximation by numpy's SVD (independent of invariance_lib.linalg)."""
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    return (U[:, :r] * s[:r]) @ Vt[:r]


def factorised_minimum(X, Y, r, *, B=None, G=None, lam=0.0, elements=None, starts=12, seed=0):
    """Minimise the sample loss over W = W2 W1 B (B = I unless given) from many random
    starts with L-BFGS, an optimiser that knows nothing of the closed forms.

    The loss is (1/n)‖WX − Y‖² + λ‖WG‖², or the augmented (1/(n|G|)) Σ_g ‖Wρ(g)X − Y‖²
    when ``elements`` is given. Returns the end-to-end matrices and losses of all starts.
    """
    from scipy.optimize import minimize

    d0, n = X.shape
    dL = Y.shape[0]
    B = np.eye(d0) if B is None else B
    m = B.shape[0]
    inputs = [X] if elements is None else [g @ X for g in elements]

    def f(theta):
        W2 = theta[: dL * r].reshape(dL, r)
        W1 = theta[dL * r:].reshape(r, m)
        W = W2 @ W1 @ B
        loss, gW = 0.0, np.zeros_like(W)
        for Xg in inputs:
            R = W @ Xg - Y
            loss += np.sum(R * R) / (n * len(inputs))
            gW += 2 * R @ Xg.T / (n * len(inputs))
        if lam:
            WG = W @ G
            loss += lam * np.sum(WG * WG)
            gW += 2 * lam * WG @ G.T
        g2 = gW @ (W1 @ B).T
        g1 = W2.T @ gW @ B.T
        return loss, np.concatenate([g2.ravel(), g1.ravel()])

    rng = np.random.default_rng(seed)
    results = []
    for _ in range(starts):
        theta0 = rng.normal(scale=0.5, size=dL * r + r * m)
        res = minimize(f, theta0, jac=True, method="L-BFGS-B",
                       options={"maxiter": 20000, "gtol": 1e-12, "ftol": 1e-15})
        W2 = res.x[: dL * r].reshape(dL, r)
        W1 = res.x[dL * r:].reshape(r, m)
        results.append((W2 @ W1 @ B, res.fun))
    return results
