"""The Monte-Carlo engine with a deterministic stub model whose answers are known exactly."""

import functools

import numpy as np
import pytest

from ltsim.model.outcome import Outcome
from ltsim.montecarlo import engine


def stub(start, stop, spread=1.0):
    """Scheme 0: latency = trial index; scheme 1: 10 + spread * (-1)^trial."""
    t = np.arange(start, stop, dtype=float)
    alternating = 10.0 + spread * np.where(np.arange(start, stop) % 2 == 0, 1.0, -1.0)
    return [Outcome.uncoded(t), Outcome.uncoded(alternating)]


def interrupting(start, stop):
    if start >= 30:
        raise KeyboardInterrupt
    return stub(start, stop)


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("batch", [1, 7, 100])
def test_all_trials_in_order_whatever_jobs_and_batch(jobs, batch):
    result = engine.run(stub, 2, engine.StopRule(trials=45), batch=batch, jobs=jobs)
    assert result.trials == 45 and result.stop_reason == "trials"
    assert np.array_equal(result.outcomes[0].latency, np.arange(45.0))


@pytest.mark.parametrize("jobs", [1, 2])
def test_precision_target_stops_at_the_same_block_for_any_jobs(jobs):
    # Scheme 0's relative half-width shrinks slowly; scheme 1's is tiny: scheme 0 decides.
    rule = engine.StopRule(trials=10_000, target_rel_ci=0.05)
    result = engine.run(functools.partial(stub, spread=0.1), 2, rule, batch=10, jobs=jobs)
    assert result.stop_reason == "target"
    n = result.trials
    assert n % 10 == 0 and engine.MIN_TRIALS_FOR_TARGET <= n < 10_000
    assert engine.relative_half_width(np.arange(float(n))) <= 0.05
    assert engine.relative_half_width(np.arange(float(n - 10))) > 0.05


def test_target_waits_for_minimum_trials():
    rule = engine.StopRule(trials=100, target_rel_ci=10.0)
    result = engine.run(stub, 2, rule, batch=5, jobs=1)
    assert result.trials == engine.MIN_TRIALS_FOR_TARGET


def test_max_time_stops_early():
    def slow(start, stop):
        import time

        time.sleep(0.05)
        return stub(start, stop)

    result = engine.run(slow, 2, engine.StopRule(trials=1000, max_time=0.2), batch=1, jobs=1)
    assert result.stop_reason == "time" and 1 <= result.trials < 20


def test_interrupt_keeps_finished_blocks():
    result = engine.run(interrupting, 2, engine.StopRule(trials=100), batch=10, jobs=1)
    assert result.stop_reason == "interrupted" and result.trials == 30
    assert np.array_equal(result.outcomes[0].latency, np.arange(30.0))


def test_relative_half_width_ignores_failures():
    x = np.array([1.0, 2.0, 3.0, np.inf])
    expected = 1.959963984540054 * np.std([1, 2, 3], ddof=1) / np.sqrt(3) / 2.0
    assert engine.relative_half_width(x) == pytest.approx(expected)
    assert engine.relative_half_width(np.array([np.inf, 1.0])) == np.inf


def test_merged_moments_equal_the_moments_of_the_whole():
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.exponential(2.0, 1000), [np.inf, np.inf]])
    merged = engine.Moments()
    for block in np.array_split(rng.permutation(x), 17):
        merged = merged.merge(engine.Moments.of(block))
    whole = engine.Moments.of(x)
    assert merged.n == whole.n == 1000
    assert merged.mean == pytest.approx(whole.mean, rel=1e-13)
    assert merged.m2 == pytest.approx(whole.m2, rel=1e-12)


def test_streams_are_the_spawned_children():
    from ltsim.montecarlo.streams import stream

    spawned = np.random.SeedSequence(7, spawn_key=(3,)).spawn(4)
    expected = [np.random.Generator(np.random.PCG64(c)).random(5) for c in spawned]
    got = [stream(7, 3, child).random(5) for child in range(4)]
    assert all(np.array_equal(a, b) for a, b in zip(expected, got, strict=True))


def test_a_pool_stopped_with_half_a_message_in_its_pipe_does_not_hang():
    """A worker terminated while it sends its block leaves half a message in the result
    pipe; stopping the pool must still let its manager thread (and the interpreter) end."""
    import os
    import struct
    import time

    pool = engine.ProcessPool(1)
    assert pool.submit(int, "1").result() == 1
    writer = pool._result_queue._writer
    os.write(writer.fileno(), struct.pack("!i", 1 << 20) + b"abc")  # 1 MiB announced
    time.sleep(0.3)
    manager = pool._executor_manager_thread
    pool.stop()
    manager.join(timeout=10)
    assert not manager.is_alive()
