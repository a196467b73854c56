"""The image pool of Shrivastava et al. 2017, as CycleGAN uses it: the discriminator is shown fakes drawn half from
the current batch and half from the 50 previous ones, which damps oscillation between G and D.

The pool is a module whose contents are buffers, so checkpoints carry it and a resumed run sees the same history.
`forward` has no host synchronisation: whether the pool is full is a tensor, and every choice is a `torch.where`.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn


class ImagePool(nn.Module):
    def __init__(self, size: int, shape: tuple[int, ...]):
        super().__init__()
        self.size = size
        self.register_buffer("images", torch.zeros(max(size, 1), *shape))  # (size, C, H, W) past fakes
        self.register_buffer("count", torch.zeros((), dtype=torch.long))  # how many slots are filled

    @torch.no_grad()
    def forward(self, fakes: Tensor) -> Tensor:
        """(B, C, H, W) new fakes -> (B, C, H, W) to show the discriminator. Until the pool is full every new fake is
        stored and returned; then each is, with probability 1/2, returned as it is, or swapped for a random stored
        one (which it replaces). Random numbers come from the global RNG on the pool's device (checkpointed)."""
        if self.size == 0:
            return fakes
        out = []
        device = self.images.device
        for fake in fakes.detach().to(self.images.dtype):  # one at a time: two fakes may pick the same slot
            full = self.count >= self.size
            swap = full & (torch.rand((), device=device) < 0.5)
            random_slot = torch.randint(self.size, (), device=device)
            slot = torch.where(full, random_slot, self.count.clamp(max=self.size - 1)).view(1)  # 1-d: no host sync
            stored = self.images.index_select(0, slot)[0]
            out.append(torch.where(swap, stored, fake))
            kept = torch.where(full & ~swap, stored, fake)  # filling or swapping: the new fake goes in
            self.images.index_copy_(0, slot, kept.unsqueeze(0))
            self.count += (~full).long()
        return torch.stack(out)
