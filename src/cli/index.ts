// The command table. Each command lives in its own module, loaded only when called, so that
// `runbook lint` does not pay for the engine's imports. Only this file calls process.exit.
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, ExitError } from '../errors.js';
import { maskKnown } from '../engine/mask.js';
import { version } from '../version.generated.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The flags `exec` and `drill` share (docs/design.md §4): drill is exec plus a report. */
const withRunOptions = (command: Command, envHelp: string, dryRunHelp: string) =>
  command
    .argument('<file>', 'runbook file')
    .option('--env <name>', envHelp)
    .option('--var <key=value>', 'override a var (repeatable)', collect)
    .option('--env-file <file>', 'KEY=value lines added to the environment (secrets)')
    .option('--yes', 'answer yes to every confirmation')
    .option('--resume', 'continue the last unfinished run of this runbook')
    .option('--force', 'with --resume: re-run changed verified steps, drop a torn last journal record')
    .option('--from <id>', 'skip the steps before this one')
    .option('--only <ids...>', 'run only these steps')
    .option('--concurrency <n>', 'run up to N independent steps at once', '1')
    .option('--dry-run', dryRunHelp)
    .option('--allow-dirty', 'run a runbook with uncommitted changes, or outside git')
    .option('--state-dir <dir>', 'journals, logs and locks (default $RUNBOOK_STATE_DIR, else .runbook/)')
    .addOption(new Option('--output <mode>', 'output').choices(['auto', 'tty', 'plain', 'json']).default('auto'));

const buildProgram = () => {
  const program = new Command('runbook')
    .description('Declarative GitOps runbooks: verified backups and executable recovery.')
    .version(`runbook ${version}`, '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .showHelpAfterError(false);

  program
    .command('lint')
    .description('validate and lint runbooks (files or folders; default runbooks/)')
    .argument('[paths...]', 'runbook files or folders', ['runbooks/'])
    .addOption(new Option('--format <format>', 'output format').choices(['pretty', 'json', 'github']).default('pretty'))
    .option('--strict', 'warnings fail the exit code too')
    .option('--no-shellcheck', 'skip shellcheck on run/verify shell text')
    .action(async (paths: string[], options) => (await import('./lint.js')).lintCommand(paths, options));

  program
    .command('plan')
    .description('print the resolved order and the exact shell of every step')
    .argument('<file>', 'runbook file')
    .option('--env <name>', 'load environments/NAME.yaml beside the runbook')
    .option('--var <key=value>', 'override a var (repeatable)', collect)
    .option('--env-file <file>', 'KEY=value lines added to the environment')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (file: string, options) => (await import('./plan.js')).planCommand(file, options));

  withRunOptions(program.command('exec'), 'load environments/NAME.yaml beside the runbook', 'print what would run, run nothing')
    .description('run a runbook: preflight, then every step verified, journaled and resumable')
    .action(async (file: string, options) => {
      await (await import('./exec.js')).execCommand(file, options);
    });

  withRunOptions(
    program.command('drill'),
    'load environments/NAME.yaml beside the runbook (refused when marked protected)',
    'print what would run, run nothing, write no report',
  )
    .description('run a recovery against a non-protected environment and write a drill report (md, json, junit xml)')
    .option('--report-dir <dir>', 'where reports are written and compared (default: drills/ beside the runbook)')
    .action(async (file: string, options) => {
      await (await import('./drill.js')).drillCommand(file, options);
    });

  program
    .command('status')
    .description('recent runs: runbook, run id, start, duration, outcome, failed step')
    .option('--state-dir <dir>', 'state folder (default $RUNBOOK_STATE_DIR, else .runbook/)')
    .option('--report-dir <dir>', 'drill reports checked for freshness', 'runbooks/drills')
    .option('--runbooks <dir>', 'folder of the recovery runbooks that need drills', 'runbooks')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (options) => {
      await (await import('./status.js')).statusCommand(options);
    });

  program
    .command('backups')
    .description('list the backups under DEST (complete, incomplete, age, size); exit 1 when stale or the policy is not met')
    .argument('<dest>', 'an rclone destination (remote:path) or a local folder')
    .option('--rpo <duration>', 'fail when the newest complete backup is older than this (e.g. 26h)')
    .option('--keep-daily <n>', 'retention policy: newest backup of each of the last N days (default 7 when any --keep-* is given)')
    .option('--keep-weekly <n>', 'retention policy: newest backup of each of the last N ISO weeks (default 4)')
    .option('--keep-monthly <n>', 'retention policy: newest backup of each of the last N months (default 6)')
    .option('--prune', 'plan a grandfather-father-son prune (dry run unless --apply)')
    .option('--apply', 'with --prune: delete what the plan deletes')
    .option('--check-policy', 'fail when anything is left that the policy would delete')
    .option('--verify', "re-hash every complete backup's stored data against its manifest (needs --signers or --allow-unsigned)")
    .option('--signers <file>', 'trust only backups whose manifest.json.sig verifies with one of these OpenSSH public key lines')
    .option('--allow-unsigned', 'trust backups without a signature (said loudly); without --signers, no signature is checked')
    .option(
      '--pick <id>',
      'print the id of the backup a restore uses: latest (the newest trusted complete one) or an id; exit 1 when not trusted',
    )
    .option('--manifest-to <file>', 'with --pick: write the exact manifest.json bytes that were checked into this file')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (dest: string, options) => {
      await (await import('./backups.js')).backupsCommand(dest, options);
    });

  program
    .command('docs')
    .description('render RECOVERY.md from runbooks (the exact shell exec runs), or check it for drift')
    .argument('<files...>', 'runbook files')
    .option('--env <name>', 'load environments/NAME.yaml beside the runbook (default: production when it exists)')
    .option('--var <key=value>', 'override a var in every file, as exec does (repeatable)', collect)
    .option('--env-file <file>', 'KEY=value lines added to the environment (for vars that read env.X)')
    .option('-o, --output <file>', 'write the document to this file instead of printing it')
    .option('--check <file>', 'exit 1 when this file differs from what would be generated')
    .action(async (files: string[], options) => (await import('./docs.js')).docsCommand(files, options));

  program
    .command('schedule')
    .description('crontab lines or systemd timers for the scheduled backup and restore-test runbooks')
    .argument('[paths...]', 'runbook files or folders', ['runbooks/'])
    .addOption(new Option('--format <format>', 'output format').choices(['cron', 'systemd']).default('cron'))
    .option('-o, --output <dir>', 'write the files into this folder instead of printing them')
    .option('--env <name>', 'environment the jobs run with', 'production')
    .option('--workdir <dir>', 'where the repository lives on the server (default: its root here)')
    .option('--command <command>', 'how the jobs call runbook', 'runbook')
    .option('--env-file <file>', 'secrets file the jobs pass to runbook exec')
    .option('--log-dir <dir>', "folder of the cron jobs' log files", '/var/log/runbook')
    .action(async (paths: string[], options) => (await import('./schedule.js')).scheduleCommand(paths, options));

  program
    .command('schema')
    .description('print the JSON Schema of the runbook format')
    .action(async () => (await import('./schema.js')).schemaCommand());

  return program;
};

/**
 * A terminal that went away (a lost SSH session) or a reader that closed the pipe makes reads and
 * writes on stdin/stdout/stderr fail with EIO or EPIPE, emitted as stream errors that would
 * otherwise end the process mid-run: output is lost, a prompt gets no answer, the run (its
 * journal, its cleanup) goes on.
 */
const surviveLostTerminal = () => {
  for (const stream of [process.stdin, process.stdout, process.stderr]) stream.on('error', () => undefined);
};

/** The one line of an error nobody expected: system errors are the machine's, anything else a bug (70). */
const reportUnexpected = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException)?.code;
  const message = maskKnown((error as Error)?.message ?? String(error));
  const debug = process.env.RUNBOOK_DEBUG === '1' ? `\n${maskKnown((error as Error)?.stack ?? '')}` : '';
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) {
    process.stderr.write(`runbook: ${message}${debug}\n`);
    process.exitCode = ExitCode.failed;
    return;
  }
  process.stderr.write(`runbook: internal error: ${message} — please report it (RUNBOOK_DEBUG=1 prints the stack)${debug}\n`);
  process.exitCode = ExitCode.internal;
};

/**
 * An exception out of a callback or a promise nobody awaited: one line and exit, as for one thrown
 * from a command. While a run goes, the run's own handler (engine/run.ts) turns it into a fault of
 * the run instead (record, cleanup, lock), so this one stands back.
 */
const exitOnStrayErrors = () => {
  for (const event of ['uncaughtException', 'unhandledRejection'] as const)
    process.on(event, (error: unknown) => {
      if (process.listenerCount(event) > 1) return;
      reportUnexpected(error);
      process.exit();
    });
};

/** Runs the CLI with `argv` (without node and script); exits the process with the outcome's code. */
export const main = async (argv: string[]): Promise<void> => {
  surviveLostTerminal();
  exitOnStrayErrors();
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    process.exitCode ??= ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every other commander complaint is a usage error.
      process.exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    } else if (error instanceof ExitError) {
      if (error.message) process.stderr.write(`runbook: ${maskKnown(error.message)}\n`);
      process.exitCode = error.code;
    } else reportUnexpected(error);
  }
};
