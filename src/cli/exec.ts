// `runbook exec`: flags → executeRunbook → renderer; signals become an AbortSignal for the core.
import { closeSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { isatty } from 'node:tty';
import { ExitCode, ExitError, usageError } from '../errors.js';
import { resolvePlan } from '../engine/resolve.js';
import { parseVarArguments } from '../engine/vars.js';
import { executeRunbook, exitCodeOf, type DryRun, type ExecOptions } from '../engine/execute.js';
import type { RunResult } from '../engine/run.js';
import type { EventListener } from '../engine/events.js';
import { createPlainRenderer } from '../engine/render/plain.js';
import { createJsonRenderer } from '../engine/render/json.js';
import { createTtyRenderer } from '../engine/render/tty.js';

export interface ExecFlags {
  env?: string;
  var?: string[];
  envFile?: string;
  yes?: boolean;
  resume?: boolean;
  force?: boolean;
  from?: string;
  only?: string[];
  concurrency?: string;
  dryRun?: boolean;
  allowDirty?: boolean;
  stateDir?: string;
  output?: 'auto' | 'tty' | 'plain' | 'json';
}

/**
 * A prompt that a signal (a lost SSH session's SIGHUP among them) or a closed terminal ends with no
 * answer, which is "no": the run then ends on the signal's terms instead of waiting forever.
 */
const createAsk =
  (signal: AbortSignal) =>
  async (question: string): Promise<string> => {
    if (signal.aborted) return '';
    let rl: ReturnType<typeof createInterface> | undefined;
    // A hung-up terminal can leave readline with no handle and no 'close': without this, Node would
    // see nothing left to do and exit mid-run, before the SIGHUP that follows a hang-up arrives.
    const keepAlive = setInterval(() => undefined, 60_000);
    try {
      rl = createInterface({ input: process.stdin, output: process.stderr });
      // A terminal that is gone ends the prompt with no answer, whichever of these comes first.
      const closed = new Promise<string>((resolve) => {
        rl!.once('close', () => resolve(''));
        for (const event of ['end', 'close', 'error']) process.stdin.once(event, () => resolve(''));
      });
      return await Promise.race([rl.question(question, { signal }), closed]);
    } catch {
      // Aborted, or the terminal is gone (readline's setRawMode fails with EIO).
      return '';
    } finally {
      clearInterval(keepAlive);
      try {
        rl?.close();
      } catch {
        // the same terminal, gone
      }
    }
  };

/**
 * Node restores the terminal's modes at exit and aborts (SIGABRT, no exit code) when the terminal
 * is gone (nodejs/node#51519, fixed after Node 20): after a SIGHUP, the descriptors that were
 * terminals are closed, which Node's restore skips.
 */
const letGoOfLostTerminal = (terminals: number[]) => {
  for (const fd of terminals) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
};

const printDryRun = (dry: DryRun) => {
  const { plan, mask } = dry;
  const out: string[] = [`dry run of ${plan.name} (${plan.file}): nothing is executed`];
  const selected = new Set(dry.selected);
  for (const step of [...plan.steps.filter((s) => selected.has(s.id)), ...plan.cleanup]) {
    out.push(
      '',
      `${step.cleanup ? 'cleanup ' : ''}step ${step.id}: ${step.name}${step.needs.length ? ` (needs ${step.needs.join(', ')})` : ''}`,
    );
    if (step.when) out.push(`  when: ${step.when}`);
    if (step.confirm) out.push(`  confirm: ${step.confirm}`);
    if (step.manual) out.push(`  manual: ${step.manual}`);
    if (step.run !== undefined)
      out.push(
        '  run:',
        ...step.run
          .replace(/\n$/, '')
          .split('\n')
          .map((l) => `    ${l}`),
      );
    out.push(
      `  verify${step.verify.retries ? ` (retries ${step.verify.retries}, every ${step.verify.intervalMs} ms)` : ''}:`,
      ...step.verify.run.split('\n').map((l) => `    ${l}`),
    );
    if (step.verify.expect) out.push(`  expect: /${step.verify.expect}/`);
  }
  process.stdout.write(mask(out.join('\n')) + '\n');
};

/**
 * Runs the command; the result is returned for tests and drill, the exit code set on process.
 * `execute` lets `drill` wrap the run (report writing) while sharing flags, renderers and signals.
 */
export const execCommand = async (
  file: string,
  flags: ExecFlags,
  execute: (options: ExecOptions) => Promise<RunResult | DryRun> = executeRunbook,
): Promise<RunResult | DryRun> => {
  const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1))
    throw usageError(`--concurrency expects a whole number of at least 1, got '${flags.concurrency}'`);
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  const output = flags.output ?? 'auto';
  // Prompts and a redrawn task list do not share a terminal well: plain lines when asking.
  // A terminal that reports no width (some CI pseudo-terminals) would wrap the task list per character.
  const useTty = output === 'tty' || (output === 'auto' && Boolean(process.stderr.isTTY) && (process.stderr.columns ?? 0) >= 40);

  const terminals = [0, 1, 2].filter((fd) => isatty(fd));
  const main = new AbortController();
  const cleanup = new AbortController();
  // The first signal stops the steps (cleanup runs), the second stops cleanup; the run's end is
  // recorded either way and the exit code is the first signal's.
  const onSignal = (signal: NodeJS.Signals) => {
    if (!main.signal.aborted) main.abort(signal);
    else cleanup.abort(signal);
  };
  for (const signal of stoppingSignals) process.on(signal, onSignal);

  // The renderer is chosen once the plan is known: only a run that may prompt (confirm or manual
  // steps, a terminal, no --yes) gives up the task list for plain lines.
  let mayPrompt = false;
  let tty: ReturnType<typeof createTtyRenderer> | undefined;
  let renderer: EventListener | undefined;
  const chooseRenderer = (): EventListener => {
    if (output === 'json') return createJsonRenderer();
    if (useTty && !(mayPrompt && interactiveNeeded(flags))) {
      tty = createTtyRenderer({ concurrency: concurrency ?? 1 });
      return tty.listener;
    }
    return createPlainRenderer();
  };
  const listeners: EventListener[] = [(event) => (renderer ??= chooseRenderer())(event)];

  try {
    const result = await execute({
      file,
      env: flags.env,
      vars: parseVarArguments(flags.var ?? []),
      envFile: flags.envFile,
      yes: flags.yes,
      resume: flags.resume,
      force: flags.force,
      from: flags.from,
      only: flags.only,
      concurrency,
      dryRun: flags.dryRun,
      allowDirty: flags.allowDirty,
      stateDir: flags.stateDir,
      interactive,
      ask: createAsk(main.signal),
      signal: main.signal,
      cleanupSignal: cleanup.signal,
      onEvent: listeners,
      graceMs: process.env.RUNBOOK_KILL_GRACE_MS ? Number(process.env.RUNBOOK_KILL_GRACE_MS) : undefined,
      resolvePlan: (path, options) => {
        const plan = resolvePlan(path, options);
        mayPrompt = [...plan.steps, ...plan.cleanup].some((step) => step.confirm !== undefined || step.kind === 'manual');
        return plan;
      },
    });
    await tty?.done();
    if ('dryRun' in result) {
      printDryRun(result);
      return result;
    }
    const code = exitCodeOf(result, main.signal);
    if (code !== ExitCode.ok) throw new ExitError(code, faultMessage(result));
    return result;
  } finally {
    for (const signal of stoppingSignals) process.off(signal, onSignal);
    if (main.signal.reason === 'SIGHUP' || cleanup.signal.reason === 'SIGHUP') letGoOfLostTerminal(terminals);
  }
};

/**
 * Signals that end a run the way SIGINT does: SIGHUP is a lost SSH session or terminal, SIGQUIT
 * Ctrl-\. SIGPIPE stays ignored (Node's default): a closed output fails writes, not the run.
 */
const stoppingSignals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/** The one line a fault ends with (the stack too with RUNBOOK_DEBUG=1). */
const faultMessage = (result: RunResult): string => {
  const { fault } = result;
  if (!fault) return '';
  const stack = fault.internal && process.env.RUNBOOK_DEBUG === '1' && fault.stack ? `\n${fault.stack}` : '';
  const report = fault.internal ? ' — please report it (RUNBOOK_DEBUG=1 prints the stack)' : '';
  return `${fault.message}${report}${stack}`;
};

// Whether this run might prompt (then the plain renderer keeps prompts readable).
const interactiveNeeded = (flags: ExecFlags) => !flags.yes && Boolean(process.stdin.isTTY);
