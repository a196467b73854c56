"""BatchNorm whose training statistics span every rank's shard of the batch, on CPU (gloo) and GPU (nccl).

torch.nn.SyncBatchNorm only runs on GPU/XPU; this one works wherever `torch.distributed` does. With it, W processes
with B/W examples each compute the same normalisation as one process with B, so a distributed run follows the
single-process run with the same global batch. The statistics travel through the differentiable all-reduce of
`torch.distributed.nn`, whose backward sums the upstream gradients of every rank (as torch's SyncBatchNorm sums
dy and dy*(x-mean)). State-dict keys equal nn.BatchNorm's, so checkpoints load into either.
"""
from __future__ import annotations

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm


class SyncBatchNorm(_BatchNorm):
    """Drop-in for BatchNorm1d/2d/3d: plain F.batch_norm in eval mode or in a single process."""

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2-D input (N, C, ...), got {input.dim()}-D")

    def forward(self, input: Tensor) -> Tensor:
        syncing = self.training and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
        if not syncing:
            return super().forward(input)
        self._check_input_dim(input)
        dims = [0, *range(2, input.dim())]  # every dim but channels
        x = input.float()
        count = x.new_full((1,), x.numel() // x.shape[1])  # a fill kernel, not a host-to-device copy
        # one all-reduce per layer: (2C + 1,) = [sum x, sum x^2, count] over every rank's examples
        local = torch.cat([x.sum(dims), (x * x).sum(dims), count])
        total = dist_fn.all_reduce(local)
        channels = x.shape[1]
        n = total[-1]
        mean = total[:channels] / n  # (C,)
        var = (total[channels : 2 * channels] / n - mean * mean).clamp_min(0)  # biased, as BN normalises with
        if self.track_running_stats:
            self._update_running_stats(mean.detach(), var.detach(), n.detach())
        shape = [1, channels] + [1] * (input.dim() - 2)
        y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y.to(input.dtype)

    @torch.no_grad()
    def _update_running_stats(self, mean: Tensor, var: Tensor, n: Tensor) -> None:
        self.num_batches_tracked.add_(1)
        # momentum None: cumulative average, as nn.BatchNorm
        momentum = self.momentum if self.momentum is not None else 1.0 / self.num_batches_tracked.item()
        unbiased = var * n / (n - 1).clamp_min(1)
        self.running_mean.lerp_(mean, momentum)
        self.running_var.lerp_(unbiased, momentum)


def convert_sync_batchnorm(module: nn.Module) -> nn.Module:
    """Replace every BatchNorm layer of `module` by a SyncBatchNorm with the same parameters and buffers."""
    if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
        sync = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                             module.track_running_stats, device=_device_of(module))
        sync.load_state_dict(module.state_dict())
        sync.train(module.training)
        if module.affine:  # keep the frozen/trainable flag the module had
            sync.weight.requires_grad_(module.weight.requires_grad)
            sync.bias.requires_grad_(module.bias.requires_grad)
        return sync
    for name, child in module.named_children():
        converted = convert_sync_batchnorm(child)
        if converted is not child:
            setattr(module, name, converted)
    return module


def _device_of(module: nn.Module) -> torch.device:
    tensor = next(iter(module.state_dict().values()), None)
    return tensor.device if tensor is not None else torch.device("cpu")
