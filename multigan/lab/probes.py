"""What one frame of the lab shows, computed from the model without changing it (no weight, buffer or random
stream moves, so the run stays the run `multigan train` would make):

    real      (M, 2)       fixed real points: the first M of the train split
    fake      (N, 2)       G(z) for a fixed z (N, latent): the same z every frame, so any motion is G's
    arrows    (N, 2)       -dL_G/dx at each generated point: where G's next update would move it
    manifold  (K, K, 2)    G over a fixed K x K lattice of z (normal quantiles in z's first two dimensions, 0 in the
                           others): the generator's image of the latent plane, drawn as lines
    heatmap   (C, C)       sigmoid(D(x)) over the view (points/modality.py's decision_map, rows bottom to top);
                           under PacGAN's pack m, D judges a pack of m copies of each x (the model's `decision`)
    losses    L_D and L_G of the game's loss on the points shown (no penalty terms)

G is the generator being trained (not its EMA copy, where the recipe keeps one), evaluated as it trains
(BatchNorm normalises with the statistics of the batch shown, as in a training step) on a copy of its buffers, so
the running statistics that sampling uses stay untouched and a D step leaves the generated points exactly where
they were. D is evaluated in eval mode (no spectral-norm power iteration).
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import torch
from torch import Tensor, nn
from torch.func import functional_call

from multigan.core.game import AdversarialGame
from multigan.core.phases import PreviewContext
from multigan.points.modality import decision_map, view_box

POINTS_SHOWN = 600  # generated and real points a frame shows; divisible by every pack of 1 to 6
LATTICE = 21  # K: the manifold's lattice is K x K latent vectors


@dataclass
class Probes:
    """The fixed inputs of every frame of one lab session."""

    real: Tensor  # (M, 2) on the model's device
    z: Tensor  # (N, latent)
    lattice: Tensor  # (K * K, latent), row-major: z_1 fastest
    box: tuple[float, float, float, float]  # the view: x_min, x_max, y_min, y_max


def make_probes(model: AdversarialGame, real: Tensor, seed: int) -> Probes:
    """`real` (M', 2): the train split's first points; `seed` draws z from a generator of its own (the global
    random stream is never read)."""
    pack = model.config.pack
    count = min(POINTS_SHOWN, real.shape[0]) // pack * pack  # whole packs, for L_D and the arrows
    generator = torch.Generator(model.device).manual_seed(seed)
    z = model.draw_latent(POINTS_SHOWN, generator)  # (N, latent)
    quantiles = torch.special.ndtri((torch.arange(LATTICE, dtype=torch.float32) + 0.5) / LATTICE)  # (K,)
    plane = torch.cartesian_prod(quantiles, quantiles).flip(1)  # (K * K, 2): first dimension fastest
    lattice = torch.zeros(LATTICE * LATTICE, z.shape[1])
    used = min(2, z.shape[1])
    lattice[:, :used] = plane[:, :used]
    return Probes(real[:count].to(model.device).float(), z, lattice.to(model.device), view_box(model.info))


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[None]:
    """`module` in eval mode for the block, then back in the mode it was in."""
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.train(training)


def generate_as_training(generator: nn.Module, z: Tensor) -> Tensor:
    """G(z) (B, 2) in training mode on copies of G's buffers: BatchNorm uses the batch's statistics and its
    running averages (what sampling and checkpoints hold) stay as they are."""
    state = {**dict(generator.named_parameters()), **{k: b.clone() for k, b in generator.named_buffers()}}
    modes = [(m, m.training) for m in generator.modules()]
    generator.train()
    try:
        return functional_call(generator, state, (z,)).float()
    finally:
        for m, training in modes:
            m.train(training)


def judged(model: AdversarialGame, x: Tensor) -> Tensor:
    """D's logits for points `x` (B, 2) in packs of `pack` consecutive points, as a training step judges them:
    (B / pack,), without the augmentation (which would read the random stream)."""
    return model.discriminator(model.pack_examples(x) if model.config.pack > 1 else x, None)


def pull_and_losses(model: AdversarialGame, fake: Tensor, real: Tensor) -> tuple[Tensor, dict[str, float]]:
    """(-dL_G/dx (N, 2) scaled by the number of D judgements, so each point's arrow is its own term's gradient
    whatever N is; {"loss_D", "loss_G"} on these points)."""
    x = fake.detach().requires_grad_(True)
    with torch.enable_grad():
        d_fake, d_real = judged(model, x), judged(model, real)  # (N / pack,), (M / pack,)
        loss_g = model.adversarial.generator(d_fake, d_real)
        (gradient,) = torch.autograd.grad(loss_g, x)  # (N, 2); D's own gradients are left alone
    loss_d = model.adversarial.discriminator(d_real.detach(), d_fake.detach(), model.config.real_label)
    return -gradient * d_fake.shape[0], {"loss_D": float(loss_d), "loss_G": float(loss_g)}


def rounded(values: Tensor, places: int = 4) -> list:
    """A tensor as nested lists of floats with `places` decimals (a frame is a few tens of KB of JSON); NaN and
    infinities as None, which JSON can carry (a diverged run still draws)."""
    values = torch.round(values.detach().float().cpu(), decimals=places)
    if bool(torch.isfinite(values).all()):
        return values.tolist()
    return [rounded(row, places) for row in values] if values.dim() > 1 else \
        [v if math.isfinite(v) else None for v in values.tolist()]


@torch.no_grad()
def frame(model: AdversarialGame, probes: Probes) -> dict[str, Any]:
    """Everything the page draws for the model as it is now (module docstring)."""
    with eval_mode(model.discriminator):
        fake = generate_as_training(model.generator, probes.z)  # (N, 2)
        manifold = generate_as_training(model.generator, probes.lattice)  # (K * K, 2)
        heat = decision_map(PreviewContext({}, model.decision), probes.box)  # (C, C) or None
        arrows, losses = pull_and_losses(model, fake, probes.real)
    return {
        "fake": rounded(fake), "arrows": rounded(arrows), "losses": losses,
        "manifold": rounded(manifold.reshape(LATTICE, LATTICE, 2)),
        "heatmap": None if heat is None else rounded(heat, 3),
    }


def setup(probes: Probes, model: AdversarialGame) -> dict[str, Any]:
    """What stays fixed over a session: the view, the real points, how the heatmap is defined."""
    pack = model.config.pack
    heatmap = "sigmoid D(x): D's belief that x is real" + (
        f" (D judges packs of {pack}: here a pack of {pack} copies of x)" if pack > 1 else "")
    return {"box": list(probes.box), "real": rounded(probes.real), "heatmap_note": heatmap, "pack": pack,
            "lattice": LATTICE, "loss": model.config.loss}
