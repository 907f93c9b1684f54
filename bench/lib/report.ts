/**
 * Turns trials into the summary (median, min–max, ratio to the baseline stack of the same run),
 * latest.json and latest.md. Nothing here is measured: every figure comes from the trials.
 */
import type { Metric, Scenario } from '../scenarios/types.js';
import type { Stack } from '../stacks/types.js';
import { spread, type Spread } from './stats.js';

export interface Trial {
  rep: number;
  scenario: string;
  stack: string;
  ms: number;
  metrics?: Record<string, number>;
  details?: Record<string, unknown>;
  /** Stack-reported errors seen by the client process (drops, rejected sends, gaps). */
  clientErrors?: number;
  error?: string;
  unavailable?: string;
}

export interface Cell extends Spread {
  /** median / baseline median, when both exist and the baseline is not 0. */
  ratio?: number;
}

/** scenario → metric → stack → cell, or a reason there is no number. */
export type Summary = Record<string, Record<string, Record<string, Cell | { missing: 'failed' | 'unavailable' | 'n/a'; reason?: string }>>>;

export function summarise(trials: Trial[], scenarios: readonly Scenario[], stacks: readonly Stack[], baseline: string): Summary {
  const out: Summary = {};
  for (const sc of scenarios) {
    const bySc = (out[sc.id] = {} as Summary[string]);
    for (const m of sc.metrics) {
      const row = (bySc[m.key] = {} as Summary[string][string]);
      for (const st of stacks) {
        const ts = trials.filter((t) => t.scenario === sc.id && t.stack === st.id);
        const values = ts.flatMap((t) => (t.metrics && m.key in t.metrics ? [t.metrics[m.key]!] : []));
        const s = spread(values);
        if (s) row[st.id] = s;
        else if (ts.length === 0) row[st.id] = { missing: 'n/a' };
        else if (ts.some((t) => t.unavailable)) row[st.id] = { missing: 'unavailable', reason: ts.find((t) => t.unavailable)?.unavailable };
        else row[st.id] = { missing: 'failed', reason: ts.find((t) => t.error)?.error?.split('\n')[0] };
      }
      const base = row[baseline];
      if (base && 'median' in base && base.median !== 0)
        for (const cell of Object.values(row)) if ('median' in cell) cell.ratio = cell.median / base.median;
    }
  }
  return out;
}

/** A figure with `digits` decimals and thousands separators. */
export function num(x: number, digits: number): string {
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function cellText(cell: Summary[string][string][string] | undefined, m: Metric): string {
  if (!cell) return '—';
  if ('missing' in cell) return cell.missing === 'n/a' ? '—' : cell.missing;
  return spreadText(cell, m.digits);
}

/** `median (min–max) ×ratio`: a cell of the results tables (the range only over several repeats). */
export function spreadText(cell: { median: number; min: number; max: number; n: number; ratio?: number }, digits: number): string {
  const range = cell.n > 1 ? ` (${num(cell.min, digits)}–${num(cell.max, digits)})` : '';
  const ratio = cell.ratio === undefined ? '' : ` ×${cell.ratio.toFixed(2)}`;
  return `${num(cell.median, digits)}${range}${ratio}`;
}

/** One target of the issue: `stack`'s `metric` against `against`'s, within `bound`. */
export interface Target {
  group: string;
  what: string;
  scenario: string;
  metric: string;
  stack: string;
  against?: string;
  /** 'ratio ≤', 'ratio ≥' against `against`; 'value ≥', 'value ≤' on the stack's own median. */
  check: 'ratio<=' | 'ratio>=' | 'value>=' | 'value<=';
  bound: number;
}

export interface TargetResult extends Target {
  measured?: number;
  pass?: boolean;
  note?: string;
}

export function evaluateTargets(summary: Summary, targets: readonly Target[]): TargetResult[] {
  return targets.map((t) => {
    const cell = summary[t.scenario]?.[t.metric]?.[t.stack];
    if (!cell || 'missing' in cell) return { ...t, note: cell && 'missing' in cell ? cell.missing : 'not run' };
    let measured = cell.median;
    if (t.check.startsWith('ratio')) {
      const base = summary[t.scenario]?.[t.metric]?.[t.against ?? ''];
      if (!base || 'missing' in base || base.median === 0) return { ...t, note: `no ${t.against} figure` };
      measured = cell.median / base.median;
    }
    const pass = t.check.endsWith('<=') ? measured <= t.bound : measured >= t.bound;
    return { ...t, measured, pass };
  });
}

/** What every results file says about its run (the main bench and the cluster bench). */
export interface RunMeta {
  mode: string;
  startedAt: string;
  durationS: number;
  node: string;
  cpus: number;
  pinned: boolean;
  /** wirehop as built (`dist`) or its TypeScript sources through tsx (bench/lib/code.ts). */
  code?: 'dist' | 'source';
  repeats: number;
  notes: string[];
}

export interface ReportMeta extends RunMeta {
  baseline: string;
}

export function markdown(meta: ReportMeta, summary: Summary, scenarios: readonly Scenario[], stacks: readonly Stack[], targets: TargetResult[], trials: Trial[]): string {
  const lines: string[] = [];
  lines.push(`# wirehop benchmark — ${meta.mode} run`, '');
  lines.push(
    `${meta.startedAt} · ${meta.durationS.toFixed(0)} s · Node ${meta.node} · ${meta.cpus} CPUs · server and client processes ${meta.pinned ? 'pinned to one core each' : 'not pinned'} · ${meta.repeats} repeat(s)${meta.code ? ` · wirehop ${meta.code === 'dist' ? 'as built (dist)' : 'from its sources (tsx)'}` : ''}`,
    '',
  );
  lines.push(`Cells: median (min–max over repeats) ×ratio to \`${meta.baseline}\` in this run. For rates higher is better; for latency, memory and losses lower is better. See bench/README.md.`, '');
  for (const note of meta.notes) lines.push(`> ${note}`, '');
  lines.push(`| metric | ${stacks.map((s) => s.label).join(' | ')} |`);
  lines.push(`|---|${stacks.map(() => '---').join('|')}|`);
  for (const sc of scenarios)
    for (const m of sc.metrics) lines.push(`| ${m.label} (${m.unit}) | ${stacks.map((s) => cellText(summary[sc.id]?.[m.key]?.[s.id], m)).join(' | ')} |`);
  const errors = stacks.map((s) => trials.filter((t) => t.stack === s.id).reduce((n, t) => n + (t.clientErrors ?? 0), 0));
  lines.push(`| client-side errors, all trials (count) | ${errors.join(' | ')} |`);
  lines.push('');
  if (targets.length) {
    lines.push('## Targets', '', '| target | stack | measured | bound | verdict |', '|---|---|---|---|---|');
    for (const t of targets) {
      const op = t.check.endsWith('<=') ? '≤' : '≥';
      const unit = t.check.startsWith('ratio') ? `× ${t.against}` : '';
      const measured = t.measured === undefined ? (t.note ?? '—') : `${t.check.startsWith('ratio') ? '×' : ''}${t.measured.toFixed(2)}`;
      const verdict = t.pass === undefined ? '—' : t.pass ? 'met' : '**missed**';
      lines.push(`| ${t.group}: ${t.what} | ${t.stack} | ${measured} | ${op} ${t.bound}${unit ? ' ' + unit : ''} | ${verdict} |`);
    }
    lines.push('');
  }
  const problems = trials.filter((t) => t.error || t.unavailable);
  if (problems.length) {
    lines.push('## Trials without figures', '');
    for (const t of problems) lines.push(`- rep ${t.rep + 1}, ${t.scenario} on ${t.stack}: ${t.unavailable ? `unavailable — ${t.unavailable}` : `failed — ${t.error?.split('\n')[0]}`}`);
    lines.push('');
  }
  return lines.join('\n');
}
