"""The history buffer fills, mixes b/2 fresh + b/2 old images, and replaces b/2 random slots."""
import torch

from pipeline.simgan.history import HistoryBuffer

SHAPE = (1, 4, 4)


def tagged(start: int, n: int) -> torch.Tensor:
    """n images, image i filled with the value start + i, so every image can be traced."""
    return torch.arange(start, start + n, dtype=torch.float32)[:, None, None, None].expand(n, *SHAPE).clone()


def tags(images: torch.Tensor) -> list[int]:
    return images[:, 0, 0, 0].long().tolist()


def test_fills_before_replacing():
    h = HistoryBuffer(10, SHAPE, seed=0)
    assert len(h) == 0 and h.images.shape == (10, *SHAPE)  # preallocated
    h.push(tagged(0, 4))
    h.push(tagged(4, 4))
    assert len(h) == 8 and tags(h.images[:8]) == list(range(8))
    h.push(tagged(8, 4))  # 2 fill the free slots, 2 overwrite random ones
    assert len(h) == 10
    assert {8, 9} <= set(tags(h.images)) and len(set(range(8)) - set(tags(h.images))) <= 2


def test_mix_gives_half_fresh_half_history_and_replaces_half_batch_slots():
    b = 8
    h = HistoryBuffer(16, SHAPE, seed=0)
    h.push(tagged(0, 16))
    assert h.n_fresh(b) == b // 2
    before = h.images.clone()
    batch = h.mix(tagged(100, b // 2), b)
    assert batch.shape == (b, *SHAPE)
    assert tags(batch[: b // 2]) == [100, 101, 102, 103]           # fresh first
    old = tags(batch[b // 2:])
    assert len(set(old)) == b // 2 and all(0 <= t < 16 for t in old)  # distinct history images
    changed = (h.images != before).flatten(1).any(1)
    assert changed.sum() == b // 2                                   # exactly b/2 slots replaced
    assert sorted(tags(h.images[changed])) == [100, 101, 102, 103]   # by the fresh images


def test_replaced_slots_are_random_and_seeded():
    def replaced(seed: int) -> list[list[int]]:
        h = HistoryBuffer(64, SHAPE, seed=seed)
        h.push(tagged(0, 64))
        out = []
        for step in range(3):
            before = h.images.clone()
            h.mix(tagged(1000 + 10 * step, 4), 8)
            out.append(torch.nonzero((h.images != before).flatten(1).any(1)).flatten().tolist())
        return out
    a, again, other = replaced(0), replaced(0), replaced(1)
    assert a == again                         # reproducible from the seed
    assert a != other                         # but not fixed
    assert len({tuple(s) for s in a}) == 3    # different slots each step
    assert a[0] != list(range(a[0][0], a[0][0] + 4))  # not a contiguous block


def test_while_filling_the_batch_is_mostly_fresh():
    h = HistoryBuffer(100, SHAPE, seed=0)
    assert h.n_fresh(8) == 8
    batch = h.mix(tagged(0, 8), 8)
    assert tags(batch) == list(range(8)) and len(h) == 8
    h2 = HistoryBuffer(100, SHAPE, seed=0)
    h2.push(tagged(0, 2))
    assert h2.n_fresh(8) == 6 and len(h2.mix(tagged(10, 6), 8)) == 8


def test_state_dict_round_trip_repeats_draws():
    h = HistoryBuffer(32, SHAPE, seed=3)
    h.push(tagged(0, 20))
    state = h.state_dict()
    first = h.draw(5)
    h2 = HistoryBuffer(32, SHAPE, seed=99)
    h2.load_state_dict(state)
    assert len(h2) == 20 and torch.equal(h2.draw(5), first)
