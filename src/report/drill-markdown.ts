// The drill report for people: what was restored, how long each step took, what its verification
// printed, and whether the recovery met its RTO — readable in a pull request.
import { formatDuration } from '../runbook/duration.js';
import type { DrillReport, DrillStep } from './drill-model.js';
import { SLOWER_FACTOR } from './drill-compare.js';

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
const time = (iso?: string) => (iso ? iso.replace(/\.\d+Z$/, 'Z') : '-');
const ms = (value?: number) => (value === undefined ? '-' : formatDuration(value));

/** A fence longer than any backtick run inside `text`. */
const fenced = (text: string, info = '') => {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${info}\n${text.replace(/\n+$/, '')}\n${ticks}`;
};

const statusText = (step: DrillStep) => (step.status === 'failed' && step.tolerated ? 'failed (tolerated)' : step.status);

/** The slowest finished steps, slowest first. */
export const slowestSteps = (report: DrillReport, count = 3): DrillStep[] =>
  report.steps
    .filter((s) => s.durationMs !== undefined && s.status === 'done')
    .sort((a, b) => b.durationMs! - a.durationMs!)
    .slice(0, count);

/** A few lines for the terminal: total against the RTO, slowest steps, RPO achieved. */
export const summarizeDrill = (report: DrillReport): string[] => {
  const lines = [
    `drill of ${report.runbook} (${report.environment ?? 'no environment'}): ${report.outcome}` +
      (report.rto
        ? `, ${ms(report.durationMs)} against an RTO of ${report.rto.target} — ${report.rto.met ? 'met' : 'MISSED'}`
        : `, ${ms(report.durationMs)} (no rto set)`),
  ];
  const slow = slowestSteps(report);
  if (slow.length) lines.push(`slowest steps: ${slow.map((s) => `${s.id} ${ms(s.durationMs)}`).join(', ')}`);
  if (report.rpo)
    lines.push(
      `RPO achieved: ${ms(report.rpo.achievedMs)} (oldest backup restored: ${report.rpo.backup}, by ${report.rpo.step})${report.rpo.target ? ` against ${report.rpo.target} — ${report.rpo.met ? 'met' : 'MISSED'}` : ''}`,
    );
  const c = report.comparison;
  if (c) {
    const changes = [
      ...c.slower.map((s) => `${s.id} ${s.ratio}× slower`),
      ...c.newFailures.map((id) => `${id} newly failed`),
      ...c.newRetries.map((r) => `${r.id} needed ${r.after} attempts`),
    ];
    lines.push(
      `since the drill of ${time(c.previousStartedAt)}: ${changes.length ? changes.join(', ') : 'no step slower, no new failure or retry'}`,
    );
  }
  return lines;
};

export const renderDrillMarkdown = (report: DrillReport): string => {
  const out: string[] = [
    `# Drill: ${report.runbook} — ${report.outcome === 'success' && report.rto?.met !== false ? 'passed' : 'FAILED'}`,
    '',
  ];
  const facts: [string, string][] = [
    ['Runbook', `\`${report.file}\` (${report.runbook}, ${report.kind})`],
    [
      'Commit',
      (report.commit ? `\`${report.commit}\`` : 'not in git (--allow-dirty)') +
        (report.dirty ? `, with uncommitted changes in ${report.dirty.map((f) => `\`${f}\``).join(', ')} (--allow-dirty)` : ''),
    ],
    ['Environment', report.environment ?? '-'],
    ['Run by', `${report.user ?? '?'} on ${report.host ?? '?'}`],
    ['Run id', `\`${report.runId}\`${report.sessions > 1 ? ` (resumed: ${report.sessions} sessions)` : ''}`],
    ['Started', time(report.startedAt)],
    ['Finished', time(report.finishedAt)],
    ['Outcome', report.outcome + (report.failedStep ? ` (failed step: \`${report.failedStep}\`)` : '')],
    [
      'Total time',
      report.rto
        ? `${ms(report.durationMs)} against an RTO of ${report.rto.target}: **${report.rto.met ? 'met' : 'missed'}**`
        : `${ms(report.durationMs)} (the runbook sets no rto)`,
    ],
    [
      'RPO achieved',
      report.rpo
        ? `${ms(report.rpo.achievedMs)}: the oldest backup restored (\`${report.rpo.backup}\`, step \`${report.rpo.step}\`) was that old when the drill started${report.rpo.target ? `; target ${report.rpo.target}: **${report.rpo.met ? 'met' : 'missed'}**` : ''}`
        : 'no restore step reported its backup',
    ],
  ];
  out.push('| | |', '|---|---|', ...facts.map(([k, v]) => `| ${k} | ${cell(v)} |`), '');

  out.push('## Steps', '', '| # | step | started | duration | attempts | status | backup used (age) |', '|---|---|---|---|---|---|---|');
  report.steps.forEach((s, i) => {
    const backup = s.backup ? `\`${s.backup.id}\`${s.backup.ageMs !== undefined ? ` (${ms(s.backup.ageMs)})` : ''}` : '';
    out.push(
      `| ${i + 1} | \`${s.id}\` ${cell(s.name)} | ${time(s.startedAt)} | ${ms(s.durationMs)} | ${s.attempts} | ${cell(statusText(s))} | ${backup} |`,
    );
  });
  out.push('');

  const c = report.comparison;
  out.push('## Changes since the previous drill', '');
  if (!c) out.push('This is the first drill of this runbook in this folder.', '');
  else {
    out.push(`Compared with \`${c.previous}\` (started ${time(c.previousStartedAt)}).`, '');
    if (!c.slower.length && !c.newFailures.length && !c.newRetries.length)
      out.push(`No step got more than ${Math.round((SLOWER_FACTOR - 1) * 100)} % slower, no new failure, no new retry.`, '');
    for (const s of c.slower) out.push(`- \`${s.id}\` got slower: ${ms(s.beforeMs)} → ${ms(s.afterMs)} (${s.ratio}×)`);
    for (const id of c.newFailures) out.push(`- \`${id}\` failed (it did not fail last time)`);
    for (const r of c.newRetries) out.push(`- \`${r.id}\` needed ${r.after} attempts (last time ${r.before})`);
    if (c.slower.length || c.newFailures.length || c.newRetries.length) out.push('');
  }

  out.push('## Verification', '');
  report.steps.forEach((s, i) => {
    if (s.status === 'skipped' || s.status === 'pending') {
      out.push(`### ${i + 1}. \`${s.id}\` — ${s.status}`, '', s.reason ? `Reason: ${s.reason}` : '', '');
      return;
    }
    out.push(`### ${i + 1}. \`${s.id}\` — ${statusText(s)}`, '');
    if (s.reason) out.push(`Error: ${s.reason}`, '');
    if (s.verify.polls !== undefined)
      out.push(
        `Verification ${s.verify.passed ? 'passed' : 'did not pass'}${s.verify.polls > 1 ? ` after ${s.verify.polls} polls` : ''}; its output (last lines, masked):`,
        '',
        fenced(s.verify.output || '(no output)', 'text'),
        '',
      );
    if (s.verify.command)
      out.push('<details><summary>verification command</summary>', '', fenced(s.verify.command, 'bash'), '', '</details>', '');
  });
  out.push(`Journal: \`${report.journal}\` · full masked log: \`${report.log}\``, '');
  return out.join('\n');
};
