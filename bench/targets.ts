/** The performance targets of the benchmark issue, checked against each run's own figures. */
import type { Target } from './lib/report.js';

const ws = 'wirehop-ws';
const sse = 'wirehop-sse';

export const TARGETS: readonly Target[] = [
  { group: 'WebSocket', what: 'echo p50', scenario: 'echo', metric: 'p50', stack: ws, against: 'ws', check: 'ratio<=', bound: 1.2 },
  { group: 'WebSocket', what: 'upstream throughput', scenario: 'upstream', metric: 'rate', stack: ws, against: 'ws', check: 'ratio>=', bound: 0.85 },
  { group: 'WebSocket', what: 'saturated fan-out vs corked ceiling', scenario: 'fanout', metric: 'satRate', stack: ws, against: 'ws-corked', check: 'ratio>=', bound: 0.8 },
  { group: 'WebSocket', what: 'fan-out p99, moderate', scenario: 'fanout', metric: 'modP99', stack: ws, against: 'ws', check: 'ratio<=', bound: 1.2 },
  { group: 'WebSocket', what: 'heap per idle session', scenario: 'memory', metric: 'heap', stack: ws, against: 'ws', check: 'ratio<=', bound: 2 },
  { group: 'SSE', what: 'echo p50', scenario: 'echo', metric: 'p50', stack: sse, against: 'ws', check: 'ratio<=', bound: 2 },
  { group: 'SSE', what: 'upstream throughput', scenario: 'upstream', metric: 'rate', stack: sse, against: 'ws', check: 'ratio>=', bound: 0.75 },
  { group: 'SSE', what: 'saturated fan-out', scenario: 'fanout', metric: 'satRate', stack: sse, against: 'ws', check: 'ratio>=', bound: 1.8 },
  { group: 'SSE', what: 'fan-out p99, moderate', scenario: 'fanout', metric: 'modP99', stack: sse, against: 'ws', check: 'ratio<=', bound: 2 },
  { group: 'SSE', what: 'heap per idle session', scenario: 'memory', metric: 'heap', stack: sse, against: 'ws', check: 'ratio<=', bound: 3 },
  { group: 'default', what: 'setup rate with the default probe', scenario: 'setup', metric: 'rate', stack: 'wirehop', against: 'ws', check: 'ratio>=', bound: 0.5 },
  { group: 'switching', what: 'throughput kept while switching every 50 ms (%)', scenario: 'switching', metric: 'relative', stack: 'wirehop', check: 'value>=', bound: 80 },
  { group: 'switching', what: 'lost events', scenario: 'switching', metric: 'lost', stack: 'wirehop', check: 'value<=', bound: 0 },
  { group: 'switching', what: 'duplicated or reordered events', scenario: 'switching', metric: 'disorder', stack: 'wirehop', check: 'value<=', bound: 0 },
];
