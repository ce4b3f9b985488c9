// dns.update against a real BIND named on loopback (RFC 2136 with TSIG), and the Hetzner flavour
// against a stand-in for the Hetzner DNS API (a SaaS API that cannot be reached here): a local HTTP
// server that checks each request and applies accepted changes to the same named, so the action's
// verification (dig at the zone's server) checks real DNS answers in both cases.
import { scriptFor } from '../../src/actions/library.js';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsUpdate } from '../../src/actions/dns.update/index.js';
import type { DnsUpdateInput } from '../../src/runbook/schema.generated.js';
import { startDns, type DnsServer } from '../../tools/stack/dns.js';
import { runCommand } from '../../tools/stack/run.js';

const context = { runbook: 'recover-full', stepId: 'dns', secrets: ['DNS_TSIG_KEY', 'HETZNER_DNS_TOKEN'] };

let root: string;
let scratch: string;
let dns: DnsServer;

/** Runs shell text the way `runbook exec` does, with the secrets in the environment only. */
const runShell = (text: string, env: Record<string, string> = {}) =>
  runCommand('bash', ['-euo', 'pipefail', '-c', scriptFor(text)], { env: { TMPDIR: scratch, ...env }, timeoutMs: 30_000 });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'runbook-dns-action-'));
  scratch = await mkdtemp(join(tmpdir(), 'runbook-dns-tmp-'));
  dns = await startDns({ root });
});

afterAll(async () => {
  await dns?.stop();
  await rm(root, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

describe('dns.update rfc2136', () => {
  const input = (): DnsUpdateInput => ({
    provider: 'rfc2136',
    server: dns.server,
    port: dns.port,
    zone: dns.zone,
    key_secret: 'DNS_TSIG_KEY',
    records: [{ name: 'crm', type: 'A', value: '198.51.100.7' }],
  });

  it('expands to its inputs, the key taken from the environment, never from the text, and a call of its library functions', () => {
    const { run, verify } = dnsUpdate.expand(input(), context);
    expect(run.split('\n')).toEqual([
      'PROVIDER=rfc2136',
      `SERVER=${dns.server}`,
      `PORT=${dns.port}`,
      `ZONE=${dns.zone}`,
      `RECORDS='crm 300 A 198.51.100.7'`,
      'TSIG_KEY="${DNS_TSIG_KEY}"',
      'rb_dns_update_run',
    ]);
    expect(run).not.toContain(dns.keyText.trim().split('\n')[2]!.trim());
    expect(verify).toMatchObject({ retries: 30, interval: '2s' });
    expect(verify.run.split('\n')).toEqual([
      `SERVER=${dns.server}`,
      `PORT=${dns.port}`,
      `ZONE=${dns.zone}`,
      `RECORDS='crm 300 A 198.51.100.7'`,
      'rb_dns_update_verify',
    ]);
    // Without a key the update goes unsigned.
    const { key_secret: _, ...unsigned } = input();
    expect(dnsUpdate.expand(unsigned, context).run).toContain(`\nTSIG_KEY=''\nrb_dns_update_run`);
  });

  it('gives nsupdate one delete and one add per record: TXT data quoted, @ the apex, absolute names as they are', async () => {
    const { run, verify } = dnsUpdate.expand(
      {
        ...input(),
        records: [
          { name: 'shop', type: 'A', value: '198.51.100.7' },
          { name: '@', type: 'TXT', value: "it's here; a & b | c * ~ (x)", ttl: 60 },
          { name: `www.${dns.zone}.`, type: 'CNAME', value: `crm.${dns.zone}` },
        ],
      },
      context,
    );
    const script = await runShell(run.replace(/rb_dns_update_run$/, 'rb_dns_update_each rb_dns_update_nsupdate_record'), {
      DNS_TSIG_KEY: dns.keyText,
    });
    expect(script.stdout).toBe(
      [
        `update delete shop.${dns.zone} A`,
        `update add shop.${dns.zone} 300 A 198.51.100.7`,
        `update delete ${dns.zone} TXT`,
        `update add ${dns.zone} 60 TXT "it's here; a & b | c * ~ (x)"`,
        `update delete www.${dns.zone}. CNAME`,
        `update add www.${dns.zone}. 300 CNAME crm.${dns.zone}`,
        '',
      ].join('\n'),
    );
    await runShell(run, { DNS_TSIG_KEY: dns.keyText });
    const checked = await runShell(verify.run);
    expect(checked.stdout).toContain(`${dns.zone} TXT "it's here; a & b | c * ~ (x)"`);
    expect(checked.stdout).toContain(`www.${dns.zone}. CNAME crm.${dns.zone}.`);
  });

  it('refuses a wrong key: the step fails and the record keeps its value', async () => {
    const other = (await runCommand('tsig-keygen', ['-a', 'hmac-sha256', dns.keyName])).stdout;
    const { run } = dnsUpdate.expand(input(), context);
    await expect(runShell(run, { DNS_TSIG_KEY: other })).rejects.toThrow(/NOTAUTH|BADSIG|tsig verify failure|update failed/i);
    expect(await dns.query('crm', 'A')).toEqual(['192.0.2.10']);
  });

  it('moves crm from 192.0.2.10 to 198.51.100.7, and its verification sees exactly that', async () => {
    const { run, verify } = dnsUpdate.expand(input(), context);
    expect(await dns.query('crm', 'A')).toEqual(['192.0.2.10']);
    // Before the update, the verification must fail: it is not a check that always passes.
    await expect(runShell(verify.run)).rejects.toThrow(/answers '192\.0\.2\.10', expected '198\.51\.100\.7'/);

    await runShell(run, { DNS_TSIG_KEY: dns.keyText });
    expect(await dns.query('crm', 'A')).toEqual(['198.51.100.7']);
    const checked = await runShell(verify.run);
    expect(checked.stdout).toContain(`crm.${dns.zone} A 198.51.100.7`);
    // The private key file is removed again (TMPDIR points at an empty folder).
    expect(await readdir(scratch)).toEqual([]);
  });

  it('sets several types in one update (TXT quoted, CNAME absolute) and verifies each', async () => {
    const { run, verify } = dnsUpdate.expand(
      {
        ...input(),
        records: [
          { name: 'status', type: 'TXT', value: 'restored by runbook', ttl: 60 },
          { name: 'www', type: 'CNAME', value: `crm.${dns.zone}` },
        ],
      },
      context,
    );
    await runShell(run, { DNS_TSIG_KEY: dns.keyText });
    expect(await dns.query('status', 'TXT')).toEqual(['"restored by runbook"']);
    expect(await dns.query('www', 'CNAME')).toEqual([`crm.${dns.zone}.`]);
    await runShell(verify.run);
  });

  it('refuses values that could smuggle commands into the script, and undeclared secrets', () => {
    const bad = (patch: Partial<DnsUpdateInput>) => () => dnsUpdate.expand({ ...input(), ...patch }, context);
    expect(bad({ records: [{ name: 'crm', type: 'A', value: '198.51.100.7\nupdate delete example.test. SOA' }] })).toThrow(
      /may not contain a newline/,
    );
    expect(bad({ records: [{ name: 'crm', type: 'TXT', value: '$(reboot)' }] })).toThrow(/may not contain/);
    expect(bad({ records: [{ name: 'crm; rm', type: 'A', value: '198.51.100.7' }] })).toThrow(/record name 'crm; rm'/);
    expect(bad({ key_secret: 'UNDECLARED' })).toThrow(/key_secret 'UNDECLARED' is not a declared secret/);
    expect(
      bad({
        records: [
          { name: 'crm', type: 'A', value: '198.51.100.7' },
          { name: 'crm', type: 'A', value: '198.51.100.8' },
        ],
      }),
    ).toThrow(/crm A is listed twice/);
  });
});

/** The part of the Hetzner DNS API (v1) that dns.update uses, keeping a fake zone in memory. */
interface ApiRecord {
  id: string;
  zone_id: string;
  name: string;
  type: string;
  value: string;
  ttl: number;
}

const startHetznerStandIn = async (token: string) => {
  const zoneId = 'zone-1';
  const records: ApiRecord[] = [{ id: 'rec-crm', zone_id: zoneId, name: 'crm', type: 'A', value: '192.0.2.10', ttl: 300 }];
  const log: { method: string; path: string; body?: unknown }[] = [];
  const problems: string[] = [];
  const readBody = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
  };
  // Accepted changes go to the real named, as Hetzner's API would publish them to its servers.
  const publish = (record: ApiRecord) =>
    runCommand('nsupdate', ['-k', dns.keyFile], {
      input: `server 127.0.0.1 ${dns.port}\nzone ${dns.zone}\nupdate delete ${record.name}.${dns.zone} ${record.type}\nupdate add ${record.name}.${dns.zone} ${record.ttl} ${record.type} ${record.value}\nsend\n`,
    });
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const body = await readBody(request);
    log.push({ method: request.method ?? '', path: url.pathname + url.search, body });
    const reply = (status: number, data: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(data));
    };
    if (request.headers['auth-api-token'] !== token) return reply(401, { message: 'invalid token' });
    if (request.method === 'GET' && url.pathname === '/api/v1/zones') {
      return reply(200, { zones: url.searchParams.get('name') === dns.zone ? [{ id: zoneId, name: dns.zone }] : [] });
    }
    if (request.method === 'GET' && url.pathname === '/api/v1/records') {
      return reply(200, { records: records.filter((r) => r.zone_id === url.searchParams.get('zone_id')) });
    }
    const write =
      request.method === 'POST' && url.pathname === '/api/v1/records'
        ? 'create'
        : request.method === 'PUT' && url.pathname.startsWith('/api/v1/records/')
          ? 'update'
          : undefined;
    if (write) {
      if (request.headers['content-type'] !== 'application/json') problems.push(`${write} without a JSON content type`);
      const { zone_id, name, type, value, ttl } = body as ApiRecord;
      if (zone_id !== zoneId || typeof ttl !== 'number') problems.push(`${write} with a bad body: ${JSON.stringify(body)}`);
      let record: ApiRecord;
      if (write === 'update') {
        const existing = records.find((r) => r.id === url.pathname.split('/').pop());
        if (!existing) return reply(404, { message: 'record not found' });
        record = Object.assign(existing, { name, type, value, ttl });
      } else {
        record = { id: `rec-${records.length + 1}`, zone_id, name, type, value, ttl };
        records.push(record);
      }
      await publish(record);
      return reply(200, { record });
    }
    reply(404, { message: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/api/v1`,
    records,
    log,
    problems,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

describe('dns.update hetzner (against a local stand-in for the Hetzner DNS API)', () => {
  const token = 'hetzner-test-token-0123456789';
  let api: Awaited<ReturnType<typeof startHetznerStandIn>>;

  beforeAll(async () => {
    api = await startHetznerStandIn(token);
  });
  afterAll(async () => api?.close());

  const input = (): DnsUpdateInput => ({
    provider: 'hetzner',
    api_url: api.url,
    // The verification asks this server; here it is the named the stand-in publishes to.
    server: dns.server,
    port: dns.port,
    zone: dns.zone,
    token_secret: 'HETZNER_DNS_TOKEN',
    records: [
      { name: 'git', type: 'A', value: '198.51.100.8' },
      { name: 'dam', type: 'A', value: '198.51.100.9', ttl: 120 },
    ],
  });

  it('expands to its inputs, the token taken from the environment, never from the text, and a call of its library functions', () => {
    const { run } = dnsUpdate.expand(input(), context);
    expect(run).not.toContain(token);
    expect(run.split('\n')).toEqual([
      'PROVIDER=hetzner',
      `ZONE=${dns.zone}`,
      `API_URL=${api.url}`,
      `RECORDS='git 300 A 198.51.100.8`,
      `dam 120 A 198.51.100.9'`,
      'API_TOKEN="${HETZNER_DNS_TOKEN}"',
      'rb_dns_update_run',
    ]);
  });

  it('names records relative to the zone, as the API wants them', async () => {
    const names = ['crm', '@', `${dns.zone}.`, `www.${dns.zone}.`, 'other.example.org.'];
    const result = await runShell(
      `ZONE=${dns.zone}\nfor name in ${names.map((n) => `'${n}'`).join(' ')}; do rb_dns_update_relative "$name"; done`,
    );
    expect(result.stdout.trim().split('\n')).toEqual(['crm', '@', '@', 'www', 'other.example.org.']);
  });

  it('fails on a token the API refuses, without changing anything', async () => {
    const { run } = dnsUpdate.expand(input(), context);
    await expect(runShell(run, { HETZNER_DNS_TOKEN: 'wrong' })).rejects.toThrow(/401|invalid token/);
    expect(api.log.every((entry) => entry.method === 'GET')).toBe(true);
  });

  it('updates an existing record (PUT), creates a missing one (POST), and the zone server answers both', async () => {
    // `git` exists in named but not in the API's zone: create; add it to the fake zone first so
    // that one record takes the PUT path.
    api.records.push({ id: 'rec-git', zone_id: 'zone-1', name: 'git', type: 'A', value: '192.0.2.11', ttl: 300 });
    api.log.length = 0;
    const { run, verify } = dnsUpdate.expand(input(), context);
    await expect(runShell(verify.run)).rejects.toThrow(/git\.example\.test A: 127\.0\.0\.1 answers '192\.0\.2\.11'/);

    await runShell(run, { HETZNER_DNS_TOKEN: token });
    expect(api.problems).toEqual([]);
    expect(api.log.map(({ method, path }) => `${method} ${path}`)).toEqual([
      `GET /api/v1/zones?name=${dns.zone}`,
      'GET /api/v1/records?zone_id=zone-1',
      'PUT /api/v1/records/rec-git',
      'GET /api/v1/records?zone_id=zone-1',
      'POST /api/v1/records',
    ]);
    expect(api.log[2]!.body).toEqual({ zone_id: 'zone-1', name: 'git', type: 'A', value: '198.51.100.8', ttl: 300 });
    expect(api.log[4]!.body).toEqual({ zone_id: 'zone-1', name: 'dam', type: 'A', value: '198.51.100.9', ttl: 120 });
    expect(await dns.query('git', 'A')).toEqual(['198.51.100.8']);
    expect(await dns.query('dam', 'A')).toEqual(['198.51.100.9']);
    await runShell(verify.run);
    expect(await readdir(scratch)).toEqual([]);
  });

  it('needs a token secret', () => {
    expect(() => dnsUpdate.expand({ ...input(), token_secret: undefined }, context)).toThrow(/provider hetzner needs token_secret/);
  });
});
