import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDuration } from '../../src/cli/ops-args';
import {
  formatProgress,
  formatReplaySummary,
  RateMeter,
  replayProgress,
} from '../../src/projection-ops/progress';

describe('parseDuration', () => {
  test('units, combinations and bare seconds', () => {
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('45'), 45_000);
    assert.equal(parseDuration('1.5s'), 1500);
  });

  test('anything else is refused', () => {
    for (const bad of ['', 'ten', '10 m', '-5s', '10x', 'm10', '5s3']) {
      assert.throws(() => parseDuration(bad), /not a duration/, bad);
    }
  });
});

describe('replay progress', () => {
  test('the progress line and the summary line', () => {
    const line = formatProgress({
      appliedEvents: 450_123,
      checkpointTotal: 450_123,
      logEndTotal: 1_000_000,
      eventsPerSecond: 38_201.4,
      lag: 549_877,
      etaSeconds: 14.2,
      elapsedSeconds: 11,
      partitions: [],
    });
    assert.equal(line, '[####......] 45% 450,123/1,000,000 events  38,201 ev/s  lag 549,877  ETA 15s');
    assert.equal(
      formatReplaySummary('listing-detail', 2, 1_000_000, 26.2),
      'replay listing-detail v2 live: 1000000 events in 26.2 s (38168 events/s)',
    );
  });

  test('an unknown rate shows no ETA; an empty log is done', () => {
    const line = formatProgress({
      appliedEvents: 0,
      checkpointTotal: 0,
      logEndTotal: 0,
      eventsPerSecond: 0,
      lag: 0,
      etaSeconds: null,
      elapsedSeconds: 0,
      partitions: [],
    });
    assert.match(line, /^\[##########\] 100% 0\/0 events {2}0 ev\/s {2}lag 0 {2}ETA \?$/);
  });

  test('RateMeter: the rate over a sliding window', () => {
    const meter = new RateMeter(5_000);
    assert.equal(meter.sample(0, 0), 0);
    assert.equal(meter.sample(1_000, 1_000), 1_000);
    assert.equal(meter.sample(2_000, 3_000), 1_500);
    // Later samples forget the start of the window.
    meter.sample(8_000, 4_000);
    assert.equal(meter.sample(9_000, 4_000), 1000 / 7);
  });

  test('replayProgress: one poll against the log ends, counting only what this run applied', () => {
    const meter = new RateMeter(5_000);
    meter.sample(10_000, 0);
    const progress = replayProgress([40, 0, 25], [50, 10, 25], {
      initialTotal: 15,
      meter,
      started: 10_000,
      now: 12_000,
    });
    assert.deepEqual(progress, {
      appliedEvents: 50,
      checkpointTotal: 65,
      logEndTotal: 85,
      eventsPerSecond: 25,
      lag: 20,
      etaSeconds: 0.8,
      elapsedSeconds: 2,
      partitions: [
        { partition: 0, checkpoint: 40, logEnd: 50, lag: 10 },
        { partition: 1, checkpoint: 0, logEnd: 10, lag: 10 },
        { partition: 2, checkpoint: 25, logEnd: 25, lag: 0 },
      ],
    });
  });

  test('replayProgress: caught up means no ETA to wait; no rate yet means an unknown one', () => {
    const done = replayProgress([5, 5], [5, 5], {
      initialTotal: 10,
      meter: new RateMeter(),
      started: 0,
      now: 0,
    });
    assert.deepEqual([done.appliedEvents, done.lag, done.etaSeconds], [0, 0, 0]);
    const meter = new RateMeter();
    meter.sample(0, 0);
    const stalled = replayProgress([0], [7], { initialTotal: 0, meter, started: 0, now: 1_000 });
    assert.deepEqual([stalled.eventsPerSecond, stalled.lag, stalled.etaSeconds], [0, 7, null]);
    // A checkpoint read lower than at the start (a store that lost it) applies nothing rather than less.
    const lower = replayProgress([3], [9], { initialTotal: 5, meter: new RateMeter(), started: 0, now: 0 });
    assert.equal(lower.appliedEvents, 0);
  });
});
