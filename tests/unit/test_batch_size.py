"""How many events a consumer settles at once (shared.puller.BatchSize)."""

from __future__ import annotations

from shared.puller import BatchSize


def full_batches(sizes: BatchSize, count: int, *, alone: bool = True) -> list[int]:
    seen = []
    for _ in range(count):
        seen.append(sizes.now)
        if sizes.settled(sizes.now, retried=False):
            sizes.grow() if alone else sizes.hold()
    return seen


def test_a_backlog_settled_in_order_grows_the_batch_up_to_the_most_once_quiet() -> None:
    now = [1000.0]
    sizes = BatchSize(64, 256, clock=lambda: now[0])
    assert full_batches(sizes, 40) == [64] * 40  # a start counts as a retry: replicas begin together
    now[0] += BatchSize.QUIET
    seen = full_batches(sizes, 40)
    grow = BatchSize.GROW_AFTER
    assert seen[0] == 64 and seen[1 : 1 + grow] == [128] * grow  # full batches enough already: grows
    assert seen[1 + grow :] == [256] * (39 - grow) and sizes.now == 256


def test_a_retry_brings_it_back_to_the_least_and_it_grows_again_only_once_retries_have_stopped() -> None:
    now = [1000.0]
    sizes = BatchSize(64, 256, clock=lambda: now[0])
    now[0] += BatchSize.QUIET
    full_batches(sizes, BatchSize.GROW_AFTER)
    assert sizes.now == 128
    full_batches(sizes, BatchSize.GROW_AFTER - 1)
    sizes.settled(128, retried=True)
    assert sizes.now == 64
    full_batches(sizes, BatchSize.GROW_AFTER - 1)
    assert sizes.now == 64  # not yet: the full batches before the retry do not count
    now[0] += BatchSize.QUIET / 2
    full_batches(sizes, 5 * BatchSize.GROW_AFTER)
    assert sizes.now == 64  # replicas retrying each other's events: kept small while retries go on
    now[0] += BatchSize.QUIET / 2
    full_batches(sizes, 1)
    assert sizes.now == 128


def test_batches_not_full_say_nothing_of_a_backlog_and_a_fixed_size_stays() -> None:
    sizes = BatchSize(64, 256)
    for _ in range(100):
        sizes.settled(10, retried=False)
    assert sizes.now == 64
    fixed = BatchSize(8, 8)
    full_batches(fixed, 100)
    assert fixed.now == 8
    assert BatchSize(300, 256).now == 256  # the least is never more than the most


def test_it_grows_only_while_no_other_replica_pulls_the_durable() -> None:
    now = [1000.0]
    sizes = BatchSize(64, 256, clock=lambda: now[0])
    now[0] += BatchSize.QUIET
    assert full_batches(sizes, 3 * BatchSize.GROW_AFTER, alone=False) == [64] * 3 * BatchSize.GROW_AFTER
    now[0] += BatchSize.QUIET  # held: asked again only after as long as after a retry
    full_batches(sizes, BatchSize.GROW_AFTER)
    assert sizes.now == 128
    # deliveries pending beyond those queued here, or another's pull request waiting: not alone
    assert sizes.alone(pending=10, waiting=1, queued=10, own_request=True)
    assert not sizes.alone(pending=74, waiting=1, queued=10, own_request=True)
    assert not sizes.alone(pending=0, waiting=1, queued=0, own_request=False)
