"""GazeModel: shapes, input checks, the shared eye branch, layer names, heads and decoding."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gazesdk.losses.ordinal import OrdinalBins, ordinal_decode, ordinal_encode, ordinal_loss
from gazesdk.models import L2Head, OrdinalHead, create_model
from gazesdk.models.casia import CONV_NAMES


def inputs(n: int = 2, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    patches = tuple(torch.rand(n, 3, 64, 64, generator=g) for _ in range(3))
    return (*patches, (torch.rand(n, 25, 25, generator=g) > 0.5).float())


@pytest.fixture(scope="module")
def casia():
    torch.manual_seed(0)
    return create_model("casia").eval()


@pytest.mark.parametrize("name", ["casia", "compact", "dilated"])
@pytest.mark.parametrize("face_grid", [True, False])
@pytest.mark.parametrize("head", ["ordinal", "l2"])
def test_output_shapes(name, head, face_grid):
    bins = OrdinalBins(bins=20)
    model = create_model(name, head=head, face_grid=face_grid, bins=bins).eval()
    face, left, right, grid = inputs(3)
    args = (face, left, right, grid if face_grid else None)
    with torch.no_grad():
        out = model(*args)
        assert out.shape == ((3, 2, 20) if head == "ordinal" else (3, 2))
        assert model.decode(out).shape == (3, 2)
        assert model.predict(*args).shape == (3, 2)
        assert model.features(*args).shape == (3, 128)
    assert model.fc.in_features == (512 if face_grid else 384)
    assert (model.grid is not None) == face_grid
    assert isinstance(model.head, OrdinalHead if head == "ordinal" else L2Head)


def test_face_grid_inputs(casia):
    face, left, right, grid = inputs()
    with torch.no_grad():
        flat = casia(face, left, right, grid.reshape(2, 625))
        torch.testing.assert_close(casia(face, left, right, grid), flat)
        # a uint8 mask (the dataset's dtype) works as well
        torch.testing.assert_close(casia(face, left, right, grid.to(torch.uint8)), flat)
    with pytest.raises(ValueError, match=r"uses the face grid.*pass face_grid"):
        casia(face, left, right)
    with pytest.raises(ValueError, match=r"face_grid must have shape \(N, 25, 25\)"):
        casia(face, left, right, torch.zeros(2, 24, 24))
    # a model without a face-grid branch ignores one
    no_grid = create_model("compact", face_grid=False).eval()
    with torch.no_grad():
        torch.testing.assert_close(no_grid(face, left, right, grid), no_grid(face, left, right))


@pytest.mark.parametrize(("position", "name"), [(0, "face"), (1, "left_eye"), (2, "right_eye")])
def test_wrong_patch_shapes_name_the_input(casia, position, name):
    for bad in (torch.zeros(2, 3, 32, 32), torch.zeros(2, 64, 64, 3), torch.zeros(3, 64, 64)):
        args = list(inputs())
        args[position] = bad
        with pytest.raises(ValueError, match=rf"{name} must have shape \(N, 3, 64, 64\)"):
            casia(*args)
    args = list(inputs())
    args[position] = (args[position] * 255).to(torch.uint8)
    with pytest.raises(ValueError, match=rf"{name} must be a float tensor"):
        casia(*args)


def test_batch_sizes_must_agree(casia):
    face, left, right, grid = inputs()
    with pytest.raises(ValueError, match="same batch size"):
        casia(face, left[:1], right, grid)
    with pytest.raises(ValueError, match="face_grid has batch size 1, the patches 2"):
        casia(face, left, right, grid[:1])


def test_named_layers(casia):
    modules = dict(casia.named_modules())
    for branch in ("face", "eye"):
        for conv in CONV_NAMES:
            assert isinstance(modules[f"{branch}.{conv}"], nn.Conv2d)
            assert isinstance(modules[f"{branch}.bn{conv[4:]}"], nn.BatchNorm2d)
        assert modules[f"{branch}.conv11"].in_channels == 3
        assert modules[f"{branch}.conv52"].out_channels == 320
        assert isinstance(modules[f"{branch}.fc"], nn.Linear)
    assert modules["fc"].out_features == 128 and isinstance(modules["grid"], nn.Module)
    assert modules["head"] is casia.head
    widths = [modules[f"face.{c}"].out_channels for c in CONV_NAMES]
    assert widths == [32, 64, 64, 128, 96, 192, 128, 256, 160, 320]


def test_eye_branch_is_shared(casia):
    names = [n for n, _ in casia.named_children()]
    assert names.count("eye") == 1 and not {"left_eye", "right_eye"} & set(names)
    # every parameter lives once: the eye's are not duplicated anywhere else
    state = casia.state_dict()
    eye_keys = [k for k in state if k.startswith("eye.")]
    assert len(eye_keys) == len(casia.eye.state_dict())
    assert not any(k.startswith(("left", "right")) for k in state)


def test_gradients_from_both_eyes_accumulate_into_the_shared_weights():
    torch.manual_seed(0)
    model = create_model("compact").eval()
    conv = model.eye.stem.conv
    seen_in: list[torch.Tensor] = []
    seen_grad: list[torch.Tensor] = []
    h1 = conv.register_forward_hook(lambda m, i, o: seen_in.append(i[0].detach()))
    h2 = conv.register_full_backward_hook(lambda m, gi, go: seen_grad.append(go[0].detach()))
    face, left, right, grid = (x.requires_grad_() for x in inputs())
    model.predict(face, left, right, grid).sum().backward()
    h1.remove()
    h2.remove()
    assert len(seen_in) == 2 and len(seen_grad) == 2          # ran on both eyes
    seen_grad.reverse()                                       # backward visits right eye first
    parts = [torch.nn.grad.conv2d_weight(x, conv.weight.shape, g, stride=conv.stride,
                                         padding=conv.padding)
             for x, g in zip(seen_in, seen_grad, strict=True)]
    assert all(p.abs().sum() > 0 for p in parts)
    torch.testing.assert_close(conv.weight.grad, parts[0] + parts[1], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", ["casia", "compact", "dilated"])
def test_swapping_the_eyes_changes_the_output(name):
    # The eye features are concatenated in a fixed order (not pooled), so left and right differ.
    torch.manual_seed(0)
    model = create_model(name).eval()
    face, _, _, grid = inputs()
    g = torch.Generator().manual_seed(1)
    dark = 0.2 + 0.1 * torch.rand(2, 3, 64, 64, generator=g)
    bright = 0.7 + 0.1 * torch.rand(2, 3, 64, 64, generator=g)
    with torch.no_grad():
        a = model.features(face, dark, bright, grid)
        b = model.features(face, bright, dark, grid)
        assert (a - b).norm() > 0.05 * a.norm()
        assert (model.predict(face, dark, bright, grid)
                - model.predict(face, bright, dark, grid)).abs().max() > 1e-3


def test_inputs_are_normalised_inside_the_model(casia):
    assert casia.input_mean.flatten().tolist() == [0.5] * 3
    assert casia.input_std.flatten().tolist() == [0.5] * 3
    assert "input_mean" not in casia.state_dict()        # constants, not checkpoint entries
    x = torch.full((1, 3, 64, 64), 0.5)
    with torch.no_grad():
        # 0.5 grey becomes exactly 0, so the first conv (no bias) gives zeros
        assert casia.face.conv11(casia._normalise(x)).abs().max() == 0


def test_ordinal_decode_and_predict(casia):
    x = inputs()
    with torch.no_grad():
        logits = casia(*x)
        torch.testing.assert_close(casia.decode(logits), ordinal_decode(logits, casia.bins))
        torch.testing.assert_close(casia.predict(*x), ordinal_decode(logits, casia.bins))
    l2 = create_model("compact", head="l2").eval()
    with torch.no_grad():
        out = l2(*x)
        assert l2.decode(out) is out


def test_ordinal_head_starts_near_the_middle_with_a_monotone_code():
    bins = OrdinalBins(bins=100, x_range=(-10.0, 10.0), y_range=(-30.0, 0.0))
    head = OrdinalHead(128, bins)
    logits = head(torch.zeros(1, 128))                    # the bias alone
    assert (logits.diff(dim=-1) < 0).all()                # a soft run of ones, then zeros
    mid = head.decode(logits)[0]
    assert mid.tolist() == pytest.approx([0.0, -15.0], abs=0.5 * 0.3)   # within half a bin
    # With random features the model still starts near the middle, not at an edge.
    torch.manual_seed(0)
    model = create_model("compact", bins=bins).eval()
    with torch.no_grad():
        pred = model.predict(*inputs(8))
    assert (pred[:, 0].abs() < 4).all() and ((pred[:, 1] + 15).abs() < 6).all()
    # and the initial Eq. 2 loss is well below the 2 B ln 2 of all-0.5 sigmoids
    targets = torch.stack([torch.rand(256) * 20 - 10, torch.rand(256) * 30 - 30], 1)
    loss = ordinal_loss(logits.expand(256, -1, -1), ordinal_encode(targets, bins))
    assert loss < 0.85 * 2 * 100 * 0.6931


@pytest.mark.slow
def test_compact_ordinal_model_overfits_16_samples():
    torch.manual_seed(0)
    model = create_model("compact", head="ordinal").train()
    face, left, right, grid = inputs(16, seed=1)
    target = torch.rand(16, 2, generator=torch.Generator().manual_seed(2)) * 30 - 15
    labels = ordinal_encode(target, model.bins)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = ordinal_loss(model(face, left, right, grid), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 5, losses
