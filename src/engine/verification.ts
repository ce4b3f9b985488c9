// Principle 1 in code: a step is done only when its verification passed. Polls the verification
// (exit code, then `expect` on stdout) up to 1 + retries times, or until a deadline, `interval` apart.
import { matchExpect } from '../runbook/expect-pattern.js';
import type { VerifyResult } from './events.js';
import { runPhase, type StepProcess } from './phase.js';
import type { ResolvedVerify } from './plan-types.js';
import type { RunContext } from './run-context.js';

/** A verification's result, and whether a signal cut it short. */
export type VerifyOutcome = VerifyResult & { aborted: boolean };

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

const tail = (text: string, max = 4096) => (text.length > max ? text.slice(-max) : text);

/** One poll: why it failed (timeout, exit code, `expect` mismatch), or no reason when it passed. */
const verifyOnce = async (run: RunContext, target: StepProcess, verify: ResolvedVerify) => {
  const shell = await runPhase(run, target, 'verify', verify.run, verify.timeoutMs);
  let reason: string | undefined;
  if (shell.timedOut) reason = `verification timed out after ${verify.timeoutMs} ms`;
  else if (shell.exitCode !== 0) reason = `verification exited ${shell.exitCode ?? shell.signal}`;
  else if (verify.expect !== undefined) {
    // Lint refuses a bad pattern before a run; one that reaches the engine anyway (or that
    // backtracks on this output) fails the verification, never the engine.
    const match = matchExpect(verify.expect, shell.stdout);
    if ('error' in match) reason = match.error;
    else if (!match.matched) reason = `verification output does not match /${verify.expect}/`;
  }
  return { shell, reason };
};

/** Polls the verification up to 1 + retries times (or, given a `deadline`, until it passes). */
export const verifyStep = async (
  run: RunContext,
  target: StepProcess,
  verify: ResolvedVerify,
  deadline?: number,
): Promise<VerifyOutcome> => {
  const { signal } = target;
  let polls = 0;
  for (;;) {
    polls++;
    const { shell, reason } = await verifyOnce(run, target, verify);
    const result = {
      passed: reason === undefined,
      exitCode: shell.exitCode,
      polls,
      reason,
      // Masked whole, then cut: a cut through a secret cannot leave part of it unmasked.
      output: tail(run.mask(shell.stdout)),
      aborted: shell.aborted,
    };
    if (result.passed || shell.aborted || signal?.aborted) return result;
    const more = deadline !== undefined ? Date.now() + verify.intervalMs < deadline : polls <= verify.retries;
    if (!more) return result;
    await sleep(verify.intervalMs, signal);
    if (signal?.aborted) return { ...result, aborted: true };
  }
};

/** The result as events and the journal record it. */
export const stripAborted = ({ aborted: _aborted, ...verify }: VerifyOutcome): VerifyResult => verify;
