/**
 * The cluster benchmark's summary (median, min–max over repeats, ratio to the 1-node in-memory
 * topology of the same run) and its markdown. Nothing here is measured: every figure comes from
 * the trials.
 */
import { num, spreadText, type RunMeta } from '../lib/report.js';
import { spread, type Spread } from '../lib/stats.js';
import { BASELINE_TOPOLOGY, type Topology } from './config.js';
import type { ClusterTrial } from './trial.js';

interface Row {
  key: string;
  label: string;
  unit: string;
  digits: number;
  /** Ratios make sense (not for counts that should be 0). */
  ratio: boolean;
}

const phaseRows = (prefix: string, name: string, latency: boolean): Row[] => [
  { key: `${prefix}Rate`, label: `${name}: delivered`, unit: 'msg/s', digits: 0, ratio: true },
  ...(latency
    ? [
        { key: `${prefix}P50`, label: `${name}: latency p50`, unit: 'µs', digits: 0, ratio: true },
        { key: `${prefix}P99`, label: `${name}: latency p99`, unit: 'µs', digits: 0, ratio: true },
      ]
    : []),
  { key: `${prefix}Lost`, label: `${name}: lost`, unit: 'msgs', digits: 0, ratio: false },
  { key: `${prefix}Dup`, label: `${name}: duplicated`, unit: 'msgs', digits: 0, ratio: false },
  { key: `${prefix}Reord`, label: `${name}: reordered`, unit: 'msgs', digits: 0, ratio: false },
  { key: `${prefix}Cpu`, label: `${name}: server-side CPU per delivery (nodes + Redis)`, unit: 'µs', digits: 2, ratio: true },
  { key: `${prefix}RedisCpu`, label: `${name}: of which Redis`, unit: 'µs', digits: 2, ratio: false },
];

export const ROWS: readonly Row[] = [
  ...phaseRows('sat', 'saturating', false),
  ...phaseRows('mod', 'moderate', true),
  { key: 'clientErrors', label: 'client-side errors (drops, gaps)', unit: 'count', digits: 0, ratio: false },
  { key: 'nodeErrors', label: 'node errors (onError, failed publishes)', unit: 'count', digits: 0, ratio: false },
];

export interface Cell extends Spread {
  ratio?: number;
}

/** row key → topology id → cell (absent: no trial of that topology produced the figure). */
export type ClusterSummary = Record<string, Record<string, Cell>>;

export function summariseCluster(trials: ClusterTrial[], topologies: readonly Topology[]): ClusterSummary {
  const out: ClusterSummary = {};
  for (const row of ROWS) {
    const cells: Record<string, Cell> = (out[row.key] = {});
    for (const t of topologies) {
      const s = spread(trials.filter((x) => x.topology === t.id && x.metrics).map((x) => x.metrics![row.key] ?? Number.NaN));
      if (s) cells[t.id] = s;
    }
    const base = cells[BASELINE_TOPOLOGY];
    if (row.ratio && base && base.median !== 0) for (const cell of Object.values(cells)) cell.ratio = cell.median / base.median;
  }
  return out;
}

/** Median over the trials of a topology of one CPU share in a phase's details (e.g. 'sat', 'redis'). */
export function cpuShare(trials: ClusterTrial[], topology: string, phase: string, what: string): number | undefined {
  const values = trials
    .filter((t) => t.topology === topology)
    .map((t) => ((t.details?.[phase] as { cpuPct?: Record<string, unknown> } | undefined)?.cpuPct?.[what] as number | undefined) ?? Number.NaN);
  return spread(values)?.median;
}

function cellText(cell: Cell | undefined, row: Row): string {
  return cell ? spreadText(cell, row.digits) : '—';
}

export interface ClusterMeta extends RunMeta {
  /** Clients connected straight to the nodes instead of through the balancer. */
  direct: boolean;
  clients: number;
  moderateOffered: number;
  saturatedOffered: number;
}

export function clusterMarkdown(meta: ClusterMeta, summary: ClusterSummary, topologies: readonly Topology[], trials: ClusterTrial[]): string {
  const lines: string[] = [];
  lines.push(`# wirehop cluster fan-out — ${meta.mode} run`, '');
  lines.push(
    `${meta.startedAt} · ${meta.durationS.toFixed(0)} s · Node ${meta.node} · ${meta.cpus} CPUs · ${meta.repeats} repeat(s) · ` +
      `${meta.clients} WebSocket clients (one process) · moderate ${num(meta.moderateOffered, 0)}/s, saturating ${num(meta.saturatedOffered, 0)}/s offered deliveries · ` +
      (meta.direct ? 'clients connected straight to the nodes (no balancer) · ' : 'clients through the round-robin balancer · ') +
      (meta.pinned ? 'Redis, nodes and balancer pinned to core 0, clients to core 1' : 'not pinned'),
    '',
  );
  lines.push(`Cells: median (min–max over repeats) ×ratio to \`${BASELINE_TOPOLOGY}\` in this run. See bench/README.md, "Cluster fan-out".`, '');
  for (const note of meta.notes) lines.push(`> ${note}`, '');
  lines.push(`| metric | ${topologies.map((t) => `${t.label} (\`${t.id}\`)`).join(' | ')} |`);
  lines.push(`|---|${topologies.map(() => '---').join('|')}|`);
  for (const row of ROWS) lines.push(`| ${row.label} (${row.unit}) | ${topologies.map((t) => cellText(summary[row.key]?.[t.id], row)).join(' | ')} |`);
  lines.push('');
  lines.push(`CPU use during the saturating / moderate phase, % of one core (median over repeats; the machine has ${meta.cpus} × 100 %): who set the pace, and how much other work competed.`, '');
  lines.push(`| process | ${topologies.map((t) => `\`${t.id}\``).join(' | ')} |`, `|---|${topologies.map(() => '---').join('|')}|`);
  for (const [what, label] of [['nodesTotal', 'wirehop nodes, together'], ['redis', 'redis-server'], ['balancer', 'balancer (benchmark driver process)'], ['client', 'client process'], ['others', 'everything else on the machine (not ours)']] as const) {
    const cells = topologies.map((t) =>
      (['sat', 'mod'] as const)
        .map((phase) => {
          const v = cpuShare(trials, t.id, phase, what);
          return v === undefined ? '—' : num(v, 0);
        })
        .join(' / '),
    );
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  lines.push('Every trial, in run order: the spread above mostly follows the last column, the other work that shared the machine.', '');
  lines.push('| rep | topology | saturating delivered (msg/s) | moderate p50 / p99 (µs) | other work, saturating / moderate (% of a core) |', '|---|---|---|---|---|');
  for (const t of trials) {
    if (!t.metrics) continue;
    const others = (['sat', 'mod'] as const).map((ph) => {
      const v = (t.details?.[ph] as { cpuPct?: { others?: number } } | undefined)?.cpuPct?.others;
      return v === undefined || !Number.isFinite(v) ? '—' : num(Math.max(0, v), 0);
    });
    const m = t.metrics;
    lines.push(`| ${t.rep + 1} | \`${t.topology}\` | ${num(m.satRate ?? Number.NaN, 0)} | ${num(m.modP50 ?? Number.NaN, 0)} / ${num(m.modP99 ?? Number.NaN, 0)} | ${others.join(' / ')} |`);
  }
  lines.push('');
  const failed = trials.filter((t) => t.error);
  if (failed.length) {
    lines.push('## Trials without figures', '');
    for (const t of failed) lines.push(`- rep ${t.rep + 1}, ${t.topology}: failed — ${t.error?.split('\n')[0]}`);
    lines.push('');
  }
  return lines.join('\n');
}
