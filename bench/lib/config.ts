/**
 * Workload sizes. `full` is the specification; `quick` shrinks clients and messages so the
 * whole matrix runs in about a minute. Offered fan-out rates are deliveries per second (broadcasts
 * per second × clients), so they mean the same load whatever the client count.
 */
export interface Params {
  mode: 'quick' | 'full';
  repeats: number;
  /** Longest a single trial (one scenario on one stack) may take before both processes are killed. */
  trialTimeoutMs: number;
  /** Warm-up: at least warmupMs and at least warmupRoundTrips (see echo.ts), then `count` measured. */
  echo: { warmupMs: number; warmupRoundTrips: number; count: number };
  upstream: { warmupMs: number; durationMs: number; window: number };
  fanout: { clients: number; saturatedOffered: number; moderateOffered: number; saturatedMs: number; moderateMs: number; warmupMs: number; drainMs: number };
  /** `warmup` clients connect and close before the measured round (scenarios/memory.ts). */
  memory: { clients: number; warmup: number; settleMs: number };
  setup: { warmup: number; count: number; concurrency: number };
  switching: { warmupMs: number; durationMs: number; everyMs: number; window: number };
  /** Connection concurrency when a scenario opens many clients before measuring. */
  connectConcurrency: number;
}

const full: Params = {
  mode: 'full',
  repeats: 3,
  trialTimeoutMs: 90_000,
  echo: { warmupMs: 500, warmupRoundTrips: 5_000, count: 3_000 },
  upstream: { warmupMs: 500, durationMs: 2_000, window: 100 },
  fanout: { clients: 500, saturatedOffered: 500_000, moderateOffered: 25_000, saturatedMs: 1_000, moderateMs: 1_500, warmupMs: 300, drainMs: 10_000 },
  memory: { clients: 2_000, warmup: 200, settleMs: 500 },
  setup: { warmup: 100, count: 1_000, concurrency: 50 },
  switching: { warmupMs: 500, durationMs: 2_000, everyMs: 50, window: 100 },
  connectConcurrency: 50,
};

const quick: Params = {
  mode: 'quick',
  repeats: 1,
  trialTimeoutMs: 45_000,
  echo: { warmupMs: 200, warmupRoundTrips: 1_000, count: 600 },
  upstream: { warmupMs: 300, durationMs: 600, window: 100 },
  fanout: { clients: 100, saturatedOffered: 500_000, moderateOffered: 25_000, saturatedMs: 300, moderateMs: 600, warmupMs: 200, drainMs: 5_000 },
  memory: { clients: 300, warmup: 50, settleMs: 300 },
  setup: { warmup: 50, count: 250, concurrency: 50 },
  switching: { warmupMs: 300, durationMs: 800, everyMs: 50, window: 100 },
  connectConcurrency: 50,
};

export function paramsFor(mode: 'quick' | 'full'): Params {
  return structuredClone(mode === 'quick' ? quick : full);
}
