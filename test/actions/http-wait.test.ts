// http.wait against a real HTTP server on loopback that starts healthy only after a few requests.
import { scriptFor } from '../../src/actions/library.js';
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { httpWait } from '../../src/actions/http.wait/index.js';
import type { HttpWaitInput } from '../../src/runbook/schema.generated.js';
import { runCommand } from '../../tools/stack/run.js';

const context = { runbook: 'recover-full', stepId: 'crm-up', secrets: [] };

const runShell = (text: string) => runCommand('bash', ['-euo', 'pipefail', '-c', scriptFor(text)], { timeoutMs: 30_000 });

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Answers 503 to the first `sickFor` requests, then `status` with `body`; counts requests. */
const startService = async ({
  sickFor = 0,
  status = 200,
  body = '{"status":"ok"}',
}: { sickFor?: number; status?: number; body?: string } = {}) => {
  const state = { requests: 0, url: '' };
  server = createServer((_request, response) => {
    state.requests++;
    if (state.requests <= sickFor) {
      response.writeHead(503, { 'content-type': 'text/plain' });
      return response.end('starting');
    }
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  state.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/health`;
  return state;
};

const expand = (input: HttpWaitInput) => httpWait.expand(input, context);

describe('http.wait', () => {
  it('expands to its inputs and a call of its library functions', () => {
    const { run, verify } = expand({ url: 'http://127.0.0.1:1/health', body: `"status": ?"ok"`, timeout: '2m', interval: '500ms' });
    expect(run.split('\n').slice(0, 5)).toEqual([
      'URL=http://127.0.0.1:1/health',
      'STATUS=200',
      `BODY='"status": ?"ok"'`,
      'TIMEOUT_SECONDS=120',
      'INTERVAL_SECONDS=0.5',
    ]);
    expect(run.split('\n').at(-1)).toBe('rb_http_wait_run');
    expect(verify.run.split('\n').at(-1)).toBe('rb_http_wait_verify');
    expect(verify.retries ?? 0).toBe(0);
  });

  it('waits until the service turns healthy, then its verification passes', async () => {
    const service = await startService({ sickFor: 3 });
    const { run, verify } = expand({ url: service.url, body: '"status": ?"ok"', timeout: '20s', interval: '100ms' });
    const waited = await runShell(run);
    expect(service.requests).toBe(4);
    expect(waited.stderr).toContain(`${service.url} answered HTTP 503, expected 200`);
    expect(waited.stdout.trim()).toBe(`${service.url} answered HTTP 200`);
    await runShell(verify.run);
    expect(service.requests).toBe(5);
  });

  it('gives up after its timeout when the body never matches', async () => {
    const service = await startService({ body: '{"status":"degraded"}' });
    // 3 s with 100 ms between attempts: more than one attempt even when a loaded machine makes curl's start slow.
    const { run, verify } = expand({ url: service.url, body: '"status": ?"ok"', timeout: '3s', interval: '100ms' });
    await expect(runShell(run)).rejects.toThrow(/body does not match[\s\S]*gave up: .* was not healthy within 3s/);
    expect(service.requests).toBeGreaterThan(1);
    await expect(runShell(verify.run)).rejects.toThrow(/the body does not match/);
  });

  it('accepts the status it is told to expect, and only that one', async () => {
    const service = await startService({ status: 401, body: 'login required' });
    await runShell(expand({ url: service.url, status: 401 }).verify.run);
    await expect(runShell(expand({ url: service.url }).verify.run)).rejects.toThrow(/answered HTTP 401, expected 200/);
  });

  it('fails its verification when nothing listens', async () => {
    const service = await startService();
    const { url } = service;
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    await expect(runShell(expand({ url }).verify.run)).rejects.toThrow(/Failed to connect|Couldn't connect/);
  });
});
