// An authoritative DNS server (BIND's named) on loopback that accepts RFC 2136 updates signed with TSIG.
import { spawn } from 'node:child_process';
import { chmod, chown, mkdir, readdir, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { findFreePort } from './ports.js';
import { trackPid, untrackPid } from './registry.js';
import { findSystemBinary, isAlive, runCommand, terminatePid, userIds } from './run.js';

/** Options of {@link startDns}. */
export interface StartDnsOptions {
  /** Folder under which `dns/` (config, key, zone) is created; must exist. */
  root: string;
  /** The zone served (primary, updatable with the key). @default 'example.test' */
  zone?: string;
  /** Name of the TSIG key (hmac-sha256). @default 'runbook-key' */
  keyName?: string;
  /** UDP and TCP port on 127.0.0.1. @default a free port (retried on a clash) */
  port?: number;
}

/** A running named; the zone starts with SOA, NS, `crm A 192.0.2.10` and `git A 192.0.2.11`. */
export interface DnsServer {
  port: number;
  server: '127.0.0.1';
  zone: string;
  keyName: string;
  /** Path of `key.conf` (what `nsupdate -k` takes). */
  keyFile: string;
  /** Contents of `key.conf` — multi-line; tests hand it to runbooks as a secret. */
  keyText: string;
  /** PID of named. */
  pid: number;
  /** The answers (`dig +short`) for `name` (relative to the zone unless it ends with `.` or the zone). */
  query(name: string, type?: string): Promise<string[]>;
  /** SIGTERM named by PID (SIGKILL after a grace period); resolves once it is gone. */
  stop(): Promise<void>;
}

/** The record addresses are documentation ranges (RFC 5737): nothing real is ever named. */
const zoneFile = (zone: string) => `$TTL 300
@       IN SOA ns1.${zone}. hostmaster.${zone}. ( 1 3600 600 86400 300 )
@       IN NS  ns1.${zone}.
ns1     IN A   192.0.2.1
crm     IN A   192.0.2.10
git     IN A   192.0.2.11
`;

const namedConf = (dir: string, port: number, zone: string, keyName: string) => `options {
  directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key";
  managed-keys-directory "${dir}";
  recursion no;
  allow-query { 127.0.0.1; };
  allow-transfer { none; };
  notify no;
  dnssec-validation no;
};
controls { };
include "${dir}/key.conf";
zone "${zone}" {
  type primary;
  file "${dir}/${zone}.zone";
  allow-update { key "${keyName}"; };
};
`;

/** Turns a relative name into a fully qualified one inside `zone`. */
const qualify = (name: string, zone: string) =>
  name.endsWith('.') || name === zone || name.endsWith(`.${zone}`) ? name : `${name}.${zone}`;

const dig = async (port: number, name: string, type: string): Promise<string[]> => {
  const { stdout } = await runCommand('dig', ['@127.0.0.1', '-p', String(port), name, type, '+short', '+time=1', '+tries=1']);
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
};

const launch = async (conf: string, port: number, zone: string) => {
  const named = findSystemBinary('named', 'bind9');
  const child = spawn(named, ['-c', conf, '-u', 'bind', '-g'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${named}`);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
  child.unref();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (!isAlive(pid) || child.exitCode !== null) break;
    const answer = await dig(port, `crm.${zone}`, 'A').catch(() => []);
    if (answer.length) {
      (child.stderr as unknown as Socket).unref(); // named's log must not keep the caller's process alive
      return pid;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await terminatePid(pid, 1_000);
  throw new Error(`named did not answer on 127.0.0.1:${port}: ${stderr.trim().split('\n').slice(-5).join('\n')}`);
};

/**
 * Starts `named -g -u bind` on 127.0.0.1 serving `zone` from `ROOT/dns/` (owned by `bind`), with a
 * fresh hmac-sha256 TSIG key allowed to update it; resolves once `dig` gets an answer.
 */
export const startDns = async ({ root, zone = 'example.test', keyName = 'runbook-key', port }: StartDnsOptions): Promise<DnsServer> => {
  findSystemBinary('named', 'bind9');
  findSystemBinary('dig', 'bind9-dnsutils');
  findSystemBinary('tsig-keygen', 'bind9');
  const dir = join(root, 'dns');
  await chmod(root, 0o755);
  await mkdir(dir, { recursive: true });
  const keyText = (await runCommand('tsig-keygen', ['-a', 'hmac-sha256', keyName])).stdout;
  const keyFile = join(dir, 'key.conf');
  await writeFile(keyFile, keyText, { mode: 0o640 });
  await writeFile(join(dir, `${zone}.zone`), zoneFile(zone));

  const { uid, gid } = await userIds('bind');
  const chownTree = async () => {
    await chown(dir, uid, gid);
    for (const name of await readdir(dir)) await chown(join(dir, name), uid, gid);
  };

  let pid = 0;
  let chosen = 0;
  for (let attempt = 1; ; attempt++) {
    chosen = port ?? (await findFreePort());
    const conf = join(dir, 'named.conf');
    await writeFile(conf, namedConf(dir, chosen, zone, keyName));
    await chownTree();
    try {
      pid = await launch(conf, chosen, zone);
      break;
    } catch (error) {
      if (port !== undefined || attempt >= 4) throw error;
    }
  }
  trackPid(pid, 'named');

  return {
    port: chosen,
    server: '127.0.0.1',
    zone,
    keyName,
    keyFile,
    keyText,
    pid,
    query: (name, type = 'A') => dig(chosen, qualify(name, zone), type),
    stop: async () => {
      await terminatePid(pid);
      untrackPid(pid);
    },
  };
};
