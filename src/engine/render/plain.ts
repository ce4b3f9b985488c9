// Plain timestamped lines, for CI logs and anything that is not a terminal.
import chalk from 'chalk';
import { formatDuration } from '../../runbook/duration.js';
import type { TimedEvent } from '../events.js';

const seconds = (ms: number) => formatDuration(ms, { style: 'seconds' });

/** One line per event (none for an event not worth a line). */
export const formatPlain = (event: TimedEvent): string | undefined => {
  const at = chalk.dim(event.t.replace(/\.\d+Z$/, 'Z'));
  switch (event.type) {
    case 'run-start':
      return `${at} ${event.resumed ? 'resuming' : 'starting'} ${chalk.bold(event.runbook)} (run ${event.runId}${event.commit ? `, commit ${event.commit.slice(0, 12)}` : ''}${event.environment ? `, env ${event.environment}` : ''})`;
    case 'warning':
      return `${at} ${chalk.yellow('warning:')} ${event.message}`;
    case 'step-start':
      return `${at} [${event.id}] ${event.name}`;
    case 'step-output':
      return `${at} [${event.id}]${event.phase === 'verify' ? ' verify' : ''} ${event.stream === 'stderr' ? '!' : '|'} ${event.line}`;
    case 'manual':
      return `${at} [${event.id}] ${chalk.cyan('manual step:')}\n${event.instructions}`;
    case 'confirm':
      return `${at} [${event.id}] ${event.question} → ${event.answer}`;
    case 'step-attempt': {
      const verify = event.verify ? (event.verify.passed ? 'verified' : `not verified: ${event.verify.reason}`) : '';
      const run = event.timedOut ? 'timed out' : `exit ${event.exitCode ?? event.signal ?? '-'}`;
      return `${at} [${event.id}] attempt ${event.attempt}: ${run}${verify ? `, ${verify}` : ''} (${seconds(event.durationMs)})`;
    }
    case 'step-done':
      return `${at} [${event.id}] ${chalk.green('done')}: exit ${event.exitCode ?? '-'}, verified${event.verify.polls > 1 ? ` after ${event.verify.polls} polls` : ''} (${seconds(event.durationMs)}${event.attempts > 1 ? `, ${event.attempts} attempts` : ''})`;
    case 'step-skipped':
      return `${at} [${event.id}] ${chalk.dim(`skipped: ${event.reason}`)}`;
    case 'step-failed':
      return `${at} [${event.id}] ${chalk.red(event.tolerated ? 'failed (continue_on_error)' : 'failed')}: ${event.error}`;
    case 'interrupted':
      return `${at} ${chalk.red(`interrupted by ${event.signal}`)}${event.steps.length ? ` during ${event.steps.join(', ')}` : ''}; --resume continues`;
    case 'run-end':
      return `${at} ${event.outcome === 'success' ? chalk.green('success') : chalk.red(event.outcome)} in ${seconds(event.durationMs)}${event.failedStep ? ` (failed step: ${event.failedStep})` : ''}`;
  }
};

export const createPlainRenderer =
  (write: (text: string) => void = (text) => process.stderr.write(text)) =>
  (event: TimedEvent) => {
    const line = formatPlain(event);
    if (line !== undefined) write(line + '\n');
  };
