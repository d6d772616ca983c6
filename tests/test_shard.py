"""bulk --shard I/N: a stable split of one input file by id."""

from __future__ import annotations

import pytest

from minimax_async._shard import Shard


def test_every_id_belongs_to_exactly_one_shard_and_always_the_same() -> None:
    """Four shards split 1,000 ids into four disjoint parts of similar size, the same twice."""
    shards = [Shard(i, 4) for i in range(1, 5)]
    ids = [f"q{i:04d}" for i in range(1000)]
    owners = {key: [s.index for s in shards if s.owns(key)] for key in ids}
    assert all(len(found) == 1 for found in owners.values())
    assert owners == {key: [s.index for s in shards if s.owns(key)] for key in ids}
    sizes = [sum(1 for found in owners.values() if found == [s.index]) for s in shards]
    assert min(sizes) > 200  # each about 250


@pytest.mark.parametrize(("text", "shard"), [("1/1", Shard(1, 1)), ("2/4", Shard(2, 4))])
def test_a_shard_is_read_as_i_of_n(text: str, shard: Shard) -> None:
    """`I/N` is shard I (1-based) of N."""
    assert Shard.parse(text) == shard


@pytest.mark.parametrize(
    "text", ["0/4", "5/4", "2", "a/b", "1/0", "-1/2", "", "²/4", "1/١٢", "1/" + "9" * 5000]
)
def test_a_shard_outside_one_to_n_is_refused(text: str) -> None:
    """Anything but 1 <= I <= N is a ValueError, before anything runs."""
    with pytest.raises(ValueError, match="shard"):
        Shard.parse(text)
