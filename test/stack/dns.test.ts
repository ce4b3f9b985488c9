import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDns, type DnsServer } from '../../tools/stack/dns.js';
import { isAlive, runCommand } from '../../tools/stack/run.js';

describe('startDns', () => {
  let root: string;
  let dns: DnsServer;
  const nsupdate = (script: string, keyFile = dns.keyFile) => runCommand('nsupdate', ['-k', keyFile], { input: script });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'stack-dns-'));
    dns = await startDns({ root });
  });
  afterAll(async () => {
    await dns?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('serves the initial zone on loopback', async () => {
    expect(dns.server).toBe('127.0.0.1');
    expect(await dns.query('crm')).toEqual(['192.0.2.10']);
    expect(await dns.query('git.example.test', 'A')).toEqual(['192.0.2.11']);
    expect(await dns.query('example.test', 'NS')).toEqual(['ns1.example.test.']);
    expect(await dns.query('nothing-here')).toEqual([]);
    expect(dns.keyText).toMatch(/^key "runbook-key" \{\n\s*algorithm hmac-sha256;\n\s*secret "[A-Za-z0-9+/=]+";\n\};\n$/);
  });

  it('applies an nsupdate signed with the key, and refuses one without it', async () => {
    const update = (value: string) =>
      `server 127.0.0.1 ${dns.port}\nzone example.test\nupdate delete crm.example.test A\nupdate add crm.example.test 60 A ${value}\nsend\n`;
    await nsupdate(update('198.51.100.7'));
    expect(await dns.query('crm')).toEqual(['198.51.100.7']);

    await expect(runCommand('nsupdate', [], { input: update('198.51.100.8') })).rejects.toThrow(/REFUSED/);
    expect(await dns.query('crm')).toEqual(['198.51.100.7']);
  });

  it('stops by PID', async () => {
    await mkdir(join(root, 'second'));
    const other = await startDns({ root: join(root, 'second'), zone: 'other.test', keyName: 'k2' });
    expect(await other.query('git')).toEqual(['192.0.2.11']);
    await other.stop();
    expect(isAlive(other.pid)).toBe(false);
    await expect(other.query('git')).rejects.toThrow();
  });
});
