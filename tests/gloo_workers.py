"""Functions that spawned gloo processes run in the tests (a spawned process imports its target by module name,
so they live in a module on the tests' import path rather than in a test file)."""
import torch
import torch.distributed as dist

from multigan.core.augmentation import AdaConfig, AugmentConfig, Augmenter


def adjust_ada_on_rank(rank: int, store: str, results) -> None:
    """One ADA adjustment on rank `rank` of 2, after each rank saw its own real logits; puts (rank, p)."""
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    augmenter = Augmenter(AugmentConfig(ada=AdaConfig(enabled=True, target=0.6, kimg=0.01, initial_p=0.5)), "image")
    # alone, rank 0 sees r_t = 1 (p rises) and rank 1 r_t = -1/3 (p falls to 0.2); together r_t = 8/12 > 0.6
    augmenter.observe(torch.ones(9) if rank == 0 else torch.tensor([-1.0, -1.0, 1.0]))
    augmenter.adjust()
    results.put((rank, float(augmenter.p)))
    dist.destroy_process_group()
