"""Tests for invariance_lib.experiments.networks: shapes, end-to-end maps, invariance, seeds, errors."""

import numpy as np
import pytest
import torch

from invariance_lib.core.groups import c4_rotations, cyclic_shifts
from invariance_lib.experiments.networks import (ACTIVATIONS, BOTTLENECK_HIDDEN, WIDE_HIDDEN, DeepLinear,
                                     HardwiredDeepLinear, TwoLayer, canonical_activation,
                                     invariance_penalty, make_generator)

REP = c4_rotations(4)            # 16 pixels, 4 orbits of size 4


def _batch(d0=16, n=7, seed=0):
    return torch.as_tensor(np.random.default_rng(seed).standard_normal((n, d0)))


# ----------------------------------------------------------------- DeepLinear
@pytest.mark.parametrize("widths", [(16, 3), (16, 5, 3), (16, 8, 2, 3)])
def test_deep_linear_end_to_end_is_the_product_and_the_map(widths):
    net = DeepLinear(widths, seed=0)
    W = net.end_to_end()
    assert W.shape == (widths[-1], widths[0])
    P = net.factors()[0]
    for F in net.factors()[1:]:
        P = F @ P
    torch.testing.assert_close(W, P, rtol=0, atol=0)
    x = _batch(widths[0])
    torch.testing.assert_close(net(x), x @ W.T, rtol=1e-12, atol=1e-12)
    assert net.rank_bound == min(widths)
    assert all(p.dtype == torch.float64 for p in net.parameters())
    assert all(layer.bias is None for layer in net.layers)


def test_initialisation_is_pytorch_default_law_and_seeded():
    a, b, c = (DeepLinear((16, 5, 3), seed=s) for s in (3, 3, 4))
    for wa, wb in zip(a.factors(), b.factors()):
        assert torch.equal(wa, wb)
    assert not torch.equal(a.factors()[0], c.factors()[0])
    for layer in DeepLinear((400, 300), seed=0).layers:
        bound = 1 / np.sqrt(layer.in_features)
        w = layer.weight.detach()
        assert w.abs().max() <= bound and w.abs().max() > 0.95 * bound
        assert abs(float(w.mean())) < 0.05 * bound


def test_float32_initialisation_is_the_float64_one_rounded():
    w64 = DeepLinear((16, 5, 3), seed=1).factors()[0].detach()
    w32 = DeepLinear((16, 5, 3), seed=1, dtype=torch.float32).factors()[0].detach()
    assert torch.equal(w32, w64.to(torch.float32))


def test_generator_and_seed_errors():
    gen = torch.Generator().manual_seed(5)
    net = DeepLinear((4, 2), generator=gen)
    assert torch.equal(net.factors()[0], DeepLinear((4, 2), seed=5).factors()[0])
    with pytest.raises(ValueError, match="explicit seed"):
        DeepLinear((4, 2))
    with pytest.raises(ValueError, match="not both"):
        make_generator(1, torch.Generator())
    with pytest.raises(ValueError, match="seed == -1, must be >= 0"):
        DeepLinear((4, 2), seed=-1)


@pytest.mark.parametrize("widths, exc, match", [((4,), ValueError, "at least two"),
                                                ((4, 0, 2), ValueError, "positive integer"),
                                                ((4, 2.5), TypeError, "must be an integer")])
def test_bad_widths(widths, exc, match):
    with pytest.raises(exc, match=match):
        DeepLinear(widths, seed=0)


# ------------------------------------------------------------ hard-wired
def test_hardwired_network_is_invariant_and_uses_a_fixed_basis():
    net = HardwiredDeepLinear((16, 2, 3), REP, seed=0)
    B = REP.invariant_basis()
    assert tuple(net.B.shape) == B.shape == (4, 16)
    assert "B" in dict(net.named_buffers())
    assert all(p.shape != net.B.shape for p in net.parameters())   # B is not trained
    W = net.end_to_end().detach().numpy()
    np.testing.assert_allclose(W @ REP.constraint_matrix(), 0, atol=1e-14)
    x = _batch()
    for g in REP.elements():
        gx = x @ torch.tensor(g).T          # rows are samples: (ρ(g) x)ᵀ = xᵀ ρ(g)ᵀ
        torch.testing.assert_close(net(gx), net(x), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(net(x), x @ net.end_to_end().T, rtol=1e-12, atol=1e-12)
    assert net.factors()[0].shape == (2, 4)
    assert net.rank_bound == 2


def test_hardwired_basis_as_array_equals_representation():
    a = HardwiredDeepLinear((16, 2, 3), REP, seed=0)
    b = HardwiredDeepLinear((16, 2, 3), REP.invariant_basis(), seed=0)
    torch.testing.assert_close(a.end_to_end(), b.end_to_end(), rtol=0, atol=0)


def test_hardwired_basis_shape_error():
    B = REP.invariant_basis()
    with pytest.raises(ValueError, match="transposed"):
        HardwiredDeepLinear((16, 2, 3), B.T, seed=0)
    with pytest.raises(ValueError, match=r"\(m, d0\)"):
        HardwiredDeepLinear((9, 2, 3), B, seed=0)


# -------------------------------------------------------------- two-layer
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "silu", "swish", "tanh"])
@pytest.mark.parametrize("hidden", [BOTTLENECK_HIDDEN, WIDE_HIDDEN])
def test_two_layer_networks(activation, hidden):
    plain = TwoLayer(16, hidden, 9, activation, seed=0)
    hard = TwoLayer(16, hidden, 9, activation, basis=REP, seed=0)
    x = _batch()
    assert plain(x).shape == hard(x).shape == (7, 9)
    for g in REP.elements():
        gx = x @ torch.tensor(g).T
        torch.testing.assert_close(hard(gx), hard(x), rtol=1e-12, atol=1e-12)
    # a generic plain network is not invariant
    R = torch.tensor(REP.elements()[1])
    assert (plain(x @ R.T) - plain(x)).abs().max() > 1e-3
    assert hard.invariance_matrix().shape == (hidden, 16)
    np.testing.assert_allclose(hard.invariance_matrix().detach().numpy() @ REP.constraint_matrix(),
                               0, atol=1e-14)


def test_two_layer_activation_is_applied():
    net = TwoLayer(4, 3, 2, "relu", bias=False, seed=0)
    x = _batch(4)
    h = torch.relu(x @ net.hidden_layer.weight.T)
    torch.testing.assert_close(net(x), h @ net.output_layer.weight.T)
    leaky = TwoLayer(4, 3, 2, "leaky-relu", bias=False, negative_slope=0.2, seed=0)
    h = torch.nn.functional.leaky_relu(x @ leaky.hidden_layer.weight.T, 0.2)
    torch.testing.assert_close(leaky(x), h @ leaky.output_layer.weight.T)


def test_activation_names():
    assert canonical_activation("Swish") == "silu"
    assert set(ACTIVATIONS) == {"relu", "leaky_relu", "silu", "tanh"}
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        TwoLayer(4, 3, 2, "gelu", seed=0)


# ---------------------------------------------------------------- penalty
def test_invariance_penalty_value_gradient_and_errors():
    net = DeepLinear((16, 5, 3), seed=0)
    G = REP.constraint_matrix()
    W = net.end_to_end().detach().numpy()
    value = invariance_penalty(net, REP, lam=0.3)
    assert value.item() == pytest.approx(0.3 * np.sum((W @ G) ** 2), rel=1e-12)
    value.backward()
    assert net.factors()[0].grad is not None
    hard = HardwiredDeepLinear((16, 5, 3), REP, seed=0)
    assert invariance_penalty(hard, G).item() < 1e-25
    with pytest.raises(ValueError, match="must be >= 0"):
        invariance_penalty(net, G, lam=-1.0)
    with pytest.raises(ValueError, match=r"\(d0, k\)"):
        invariance_penalty(net, cyclic_shifts(5).constraint_matrix())
