// A long-lived forker: one small Perl process forks every shell text of a run into its own
// session/process group, so Node pays for forking its own large address space once, not per step.
// Exit codes, output streams, timeouts and group kills stay exactly those of spawn.ts: Node still
// signals the group itself (`kill(-pid)`), Perl only forks, forwards output and reaps.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { groupAlive, drainMs, lineSplitter, signalGroup, type ShellOptions, type ShellResult } from './spawn.js';

const forker = String.raw`
use strict; use warnings; use POSIX (); use IO::Select;
$| = 1; binmode STDIN; binmode STDOUT;
my $sel = IO::Select->new(\*STDIN);
my (%fh, %open, %pidreq);
my $inbuf = ''; my $stdin_open = 1;
# Without SA_RESTART a child's exit interrupts select() at once instead of waiting for its timeout.
POSIX::sigaction(POSIX::SIGCHLD(), POSIX::SigAction->new(sub {}, POSIX::SigSet->new(), 0)); $SIG{PIPE} = 'IGNORE';
sub out { my $d = $_[0]; while (length $d) { my $n = syswrite(STDOUT, $d); die unless defined $n; substr($d, 0, $n) = ''; } }
sub reap { while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) { my $req = delete $pidreq{$pid}; out("X $req $?\n") if defined $req; } }
sub spawn_req {
  my ($req, $cwd, $text, @env) = @_;
  pipe(my $or, my $ow) or die; pipe(my $er, my $ew) or die;
  my $pid = fork();
  if (!defined $pid) { out("F $req\n"); return; }
  if ($pid == 0) {
    $SIG{CHLD} = 'DEFAULT'; $SIG{PIPE} = 'DEFAULT';
    POSIX::setsid();
    close $or; close $er;
    open(STDIN, '<', '/dev/null'); open(STDOUT, '>&', $ow); open(STDERR, '>&', $ew); close $ow; close $ew;
    if (length $cwd) { chdir $cwd or POSIX::_exit(126); }
    %ENV = (); for my $kv (@env) { my $i = index($kv, '='); $ENV{substr($kv, 0, $i)} = substr($kv, $i + 1); }
    exec('bash', '-euo', 'pipefail', '-c', $text) or POSIX::_exit(127);
  }
  close $ow; close $ew;
  $pidreq{$pid} = $req;
  for ([$or, 1], [$er, 2]) { my ($h, $s) = @$_; $fh{fileno $h} = [$req, $s, $h]; $sel->add($h); }
  $open{$req} = 2;
  out("S $req $pid\n");
}
while (1) {
  my @ready = $sel->can_read(0.05);
  reap();
  for my $h (@ready) {
    if (fileno($h) == 0) {
      my $n = sysread(STDIN, my $chunk, 65536);
      if (!$n) { $sel->remove(\*STDIN); $stdin_open = 0; next; }
      $inbuf .= $chunk;
      while (1) {
        my @f; my $pos = 0; my $ok = 1;
        for my $k (0 .. 3) { my $e = index($inbuf, "\0", $pos); if ($e < 0) { $ok = 0; last } push @f, substr($inbuf, $pos, $e - $pos); $pos = $e + 1; }
        last unless $ok;
        for (1 .. $f[3]) { my $e = index($inbuf, "\0", $pos); if ($e < 0) { $ok = 0; last } push @f, substr($inbuf, $pos, $e - $pos); $pos = $e + 1; }
        last unless $ok;
        substr($inbuf, 0, $pos) = '';
        spawn_req(@f[0..2], @f[4..$#f]);
      }
      next;
    }
    my ($req, $s) = @{$fh{fileno $h}};
    my $n = sysread($h, my $data, 65536);
    if ($n) { out("O $req $s " . length($data) . "\n" . $data); next; }
    $sel->remove($h); delete $fh{fileno $h}; close $h;
    if (--$open{$req} == 0) { delete $open{$req}; out("E $req\n"); }
  }
  reap();
  last if !$stdin_open && !%open && !%pidreq;
}
`;

interface Pending {
  started: (pid: number) => void;
  output: (stream: 1 | 2, data: Buffer) => void;
  exited: (status: number) => void;
  ended: () => void;
  failed: () => void;
}

export interface Supervisor {
  run: (options: ShellOptions) => Promise<ShellResult>;
  /** Lets the forker exit once its children are reaped. */
  close: () => void;
}

let perlChecked: boolean | undefined;
const hasPerl = () => (perlChecked ??= spawnSync('perl', ['-MIO::Select', '-MPOSIX', '-e', '1'], { stdio: 'ignore' }).status === 0);

/** Starts the forker, or returns undefined when Perl is not there (spawn.ts is used instead). */
export const startSupervisor = (): Supervisor | undefined => {
  if (!hasPerl()) return undefined;
  const child: ChildProcess = spawn('perl', ['-e', forker], { stdio: ['pipe', 'pipe', 'inherit'] });
  const pending = new Map<string, Pending>();
  let buffer: Buffer = Buffer.alloc(0);
  let nextId = 1;
  let dead = false;

  child.stdout!.on('data', (chunk: Buffer) => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    for (;;) {
      const newline = buffer.indexOf(10);
      if (newline < 0) return;
      const [kind, req, a, b] = buffer.subarray(0, newline).toString('latin1').split(' ');
      const handler = pending.get(req!);
      if (kind === 'O') {
        const length = Number(b);
        if (buffer.length < newline + 1 + length) return;
        handler?.output(Number(a) as 1 | 2, buffer.subarray(newline + 1, newline + 1 + length));
        buffer = buffer.subarray(newline + 1 + length);
        continue;
      }
      buffer = buffer.subarray(newline + 1);
      if (kind === 'S') handler?.started(Number(a));
      else if (kind === 'X') handler?.exited(Number(a));
      else if (kind === 'E') handler?.ended();
      else if (kind === 'F') handler?.failed();
    }
  });
  child.on('exit', () => {
    dead = true;
    for (const handler of pending.values()) handler.failed();
  });
  child.stdin!.on('error', () => undefined);

  const run = (options: ShellOptions): Promise<ShellResult> =>
    new Promise((resolve) => {
      const id = String(nextId++);
      const startedAt = performance.now();
      const graceMs = options.graceMs ?? 5000;
      const maxStdout = options.maxStdout ?? 65536;
      let pid: number | undefined;
      let stdout = '';
      let timedOut = false;
      let aborted = false;
      let killing = false;
      let killedAt: number | undefined;
      let status: number | undefined;
      let finished = false;
      let spawnFailed = false;
      let outputEnded = false;
      const timers: NodeJS.Timeout[] = [];
      const out = lineSplitter((line) => options.onLine?.('stdout', line));
      const err = lineSplitter((line) => options.onLine?.('stderr', line));
      const outDecoder = new TextDecoder();
      const errDecoder = new TextDecoder();

      const finish = () => {
        if (finished) return;
        finished = true;
        pending.delete(id);
        for (const timer of timers) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        out.flush();
        err.flush();
        const signalNumber = status !== undefined ? status & 0x7f : 0;
        resolve({
          exitCode: spawnFailed ? 127 : status === undefined || signalNumber !== 0 ? null : status >> 8,
          signal: signalNumber !== 0 ? (signalName(signalNumber) as NodeJS.Signals) : null,
          timedOut,
          aborted,
          stdout: stdout.length > maxStdout ? stdout.slice(-maxStdout) : stdout,
          durationMs: performance.now() - startedAt,
        });
      };
      const waitGroupGone = () => {
        if (pid === undefined || !groupAlive(pid) || (killedAt !== undefined && performance.now() - killedAt > 10_000)) finish();
        else timers.push(setTimeout(waitGroupGone, 25));
      };
      const kill = () => {
        if (killing) return;
        killing = true;
        if (pid === undefined) return; // killed as soon as it starts
        signalGroup(pid, 'SIGTERM');
        timers.push(
          setTimeout(() => {
            killedAt = performance.now();
            if (pid !== undefined) signalGroup(pid, 'SIGKILL');
          }, graceMs),
        );
      };
      const onAbort = () => {
        aborted = true;
        kill();
      };

      pending.set(id, {
        started: (childPid) => {
          pid = childPid;
          if (killing) {
            killing = false;
            kill();
          }
        },
        output: (stream, data) => {
          if (stream === 1) {
            const text = outDecoder.decode(data, { stream: true });
            stdout += text;
            if (stdout.length > maxStdout * 2) stdout = stdout.slice(-maxStdout);
            out.push(text);
          } else err.push(errDecoder.decode(data, { stream: true }));
        },
        exited: (code) => {
          status = code;
          if (killing) waitGroupGone();
          else if (outputEnded) finish();
          else timers.push(setTimeout(finish, drainMs));
        },
        ended: () => {
          outputEnded = true;
          if (status !== undefined && !killing) finish();
        },
        failed: () => {
          spawnFailed = true;
          finish();
        },
      });

      if (options.timeoutMs !== undefined) {
        timers.push(
          setTimeout(() => {
            timedOut = true;
            kill();
          }, options.timeoutMs),
        );
      }
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });

      if (dead) {
        spawnFailed = true;
        finish();
        return;
      }
      const env = Object.entries(options.env).map(([key, value]) => `${key}=${value}`);
      const fields = [id, options.cwd ?? process.cwd(), options.text, String(env.length), ...env];
      if (fields.some((field) => field.includes('\0'))) {
        spawnFailed = true;
        finish();
        return;
      }
      child.stdin!.write(fields.join('\0') + '\0');
    });

  return {
    run,
    close: () => {
      child.stdin!.end();
      // A daemon a step started may hold an output pipe open for ever: do not wait for the forker.
      child.unref();
      (child.stdout as unknown as { unref?: () => void }).unref?.();
    },
  };
};

const signalNames: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 6: 'SIGABRT', 9: 'SIGKILL', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM' };
const signalName = (n: number) => signalNames[n] ?? `SIG${n}`;
