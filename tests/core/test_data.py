"""The in-memory BatchLoader as a DistributedSampler: disjoint rank shards of one global batch, reshuffled per
epoch, the same global sequence for any number of processes, exact resume."""
import pytest
import torch

from multigan.core.data import BatchLoader, DataError, training_subset


class Numbers:
    """Example i is the number i, so a batch shows which examples it holds."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def gather(self, index: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"x": index.clone()}


def batches(loader: BatchLoader, count: int) -> list[torch.Tensor]:
    return [loader.next_batch()["x"] for _ in range(count)]


def test_ranks_hold_disjoint_slices_of_the_one_process_batches():
    one = batches(BatchLoader(Numbers(50), 12, seed=3), 8)  # 4 batches per epoch, 2 epochs
    shards = [batches(BatchLoader(Numbers(50), 12, seed=3, rank=r, world=3), 8) for r in range(3)]
    for step, whole in enumerate(one):
        parts = [shard[step] for shard in shards]
        assert all(len(p) == 4 for p in parts)
        assert torch.equal(torch.cat(parts), whole)  # rank r holds rows 4r..4r+3 of the global batch
        assert len(set(torch.cat(parts).tolist())) == 12  # disjoint


def test_every_epoch_reshuffles_and_covers_each_example_at_most_once():
    loader = BatchLoader(Numbers(48), 12, seed=0, rank=1, world=2)
    epochs = [torch.cat(batches(loader, 4)) for _ in range(2)]  # 48 / 12 = 4 global batches per epoch
    assert all(len(set(e.tolist())) == 24 for e in epochs)
    assert not torch.equal(epochs[0], epochs[1])
    assert loader.epoch == 1


def test_resume_continues_the_same_shard_mid_epoch_and_across_world_sizes():
    straight = BatchLoader(Numbers(40), 8, seed=1, rank=1, world=2)
    expected = batches(straight, 9)
    first = BatchLoader(Numbers(40), 8, seed=1, rank=1, world=2)
    batches(first, 6)
    resumed = BatchLoader(Numbers(40), 8, seed=1, rank=1, world=2)
    resumed.load_state_dict(first.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(batches(resumed, 3), expected[6:]))
    single = BatchLoader(Numbers(40), 8, seed=1)  # the state is global: a 1-process loader continues it too
    single.load_state_dict(first.state_dict())
    assert torch.equal(single.next_batch()["x"][4:], expected[6])


def test_a_dataset_smaller_than_the_batch_shrinks_it_to_a_multiple_of_the_world():
    loader = BatchLoader(Numbers(7), 16, seed=0, rank=0, world=2)
    assert (loader.batch_size, loader.local_batch_size) == (6, 3)
    with pytest.raises(DataError, match="fewer than the 3 processes"):
        BatchLoader(Numbers(2), 4, seed=0, rank=0, world=3)


class _Labelled:
    def __init__(self, labels):
        self.labels = labels

    def __len__(self):
        return len(self.labels)


def test_a_training_subset_is_class_balanced_fixed_and_only_what_the_loader_draws():
    labels = torch.arange(1000) % 10
    labels[:300] = 0  # an unbalanced split: class 0 is common
    subset = training_subset(_Labelled(labels), 0.05)
    assert torch.equal(subset, training_subset(_Labelled(labels), 0.05))  # the same images for every run
    assert torch.bincount(labels[subset]).tolist() == [5] * 10
    assert training_subset(_Labelled(labels), 1.0) is None
    loader = BatchLoader(Numbers(1000), batch_size=10, seed=3, subset=subset)
    drawn = torch.cat([loader.next_index() for _ in range(20)])
    assert set(drawn.tolist()) == set(subset.tolist())  # 4 epochs over the 50 chosen examples, nothing else


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5])
def test_a_bad_data_fraction_is_one_line(fraction):
    with pytest.raises(DataError, match="train.data_fraction must be in"):
        training_subset(_Labelled(torch.zeros(10, dtype=torch.long)), fraction)

