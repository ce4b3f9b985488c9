// notify() against a real HTTP server on loopback that records what it receives.
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { notify, pingUrl, type RunSummary } from '../../src/engine/notify.js';
import { findFreePort } from '../../tools/stack/ports.js';

interface Received {
  method: string;
  path: string;
  contentType?: string;
  body: string;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Records every request; `answers` are the statuses of the first requests (200 after them). */
const startReceiver = async (answers: number[] = []) => {
  const received: Received[] = [];
  server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    received.push({
      method: request.method ?? '',
      path: request.url ?? '',
      contentType: request.headers['content-type'],
      body: Buffer.concat(chunks).toString('utf8'),
    });
    response.writeHead(answers.shift() ?? 200);
    response.end('OK');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { base: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, received };
};

const summary: RunSummary = {
  runbook: 'backup-supabase',
  runId: '20260101T020000Z-ab12',
  outcome: 'failed',
  failedStep: 'dump',
  durationMs: 12_345,
  host: 'vps-1',
};
const fast = { retryDelayMs: 10, timeoutMs: 2000 };

describe('notify', () => {
  it('pings URL/start, URL and URL/fail for start, success and failure', async () => {
    const { base, received } = await startReceiver();
    const config = { on: ['start', 'success', 'failure'] as const, ping: `${base}/ping/0f1e2d3c` };
    expect(
      await notify(
        { ...config, on: [...config.on] },
        'start',
        { ...summary, outcome: 'running', failedStep: undefined, durationMs: 0 },
        fast,
      ),
    ).toEqual({ sent: ['ping start'], errors: [] });
    expect(
      await notify({ ...config, on: [...config.on] }, 'success', { ...summary, outcome: 'succeeded', failedStep: undefined }, fast),
    ).toEqual({ sent: ['ping success'], errors: [] });
    expect(await notify({ ...config, on: [...config.on] }, 'failure', summary, fast)).toEqual({ sent: ['ping failure'], errors: [] });
    expect(received.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /ping/0f1e2d3c/start',
      'POST /ping/0f1e2d3c',
      'POST /ping/0f1e2d3c/fail',
    ]);
    expect(received[0]!.body).toBe('backup-supabase started on vps-1 (run 20260101T020000Z-ab12)');
    expect(received[2]!.body).toBe('backup-supabase failed at step dump on vps-1 after 12.3s (run 20260101T020000Z-ab12)');
    expect(received[2]!.contentType).toMatch(/^text\/plain/);
  });

  it("keeps a ping URL's query and ignores a trailing slash", () => {
    expect(pingUrl('https://hc.example.test/ping/abc/?x=1', 'failure').toString()).toBe('https://hc.example.test/ping/abc/fail?x=1');
  });

  it('posts the summary as JSON to the webhook', async () => {
    const { base, received } = await startReceiver();
    const result = await notify({ on: ['failure'], webhook: `${base}/hooks/runbook` }, 'failure', summary, fast);
    expect(result).toEqual({ sent: ['webhook failure'], errors: [] });
    expect(received).toHaveLength(1);
    expect(received[0]!.path).toBe('/hooks/runbook');
    expect(received[0]!.contentType).toBe('application/json');
    expect(JSON.parse(received[0]!.body)).toEqual({
      event: 'failure',
      ...summary,
      text: 'backup-supabase failed at step dump on vps-1 after 12.3s (run 20260101T020000Z-ab12)',
    });
  });

  it('sends nothing for an event it was not asked about (failures only by default)', async () => {
    const { base, received } = await startReceiver();
    expect(await notify({ ping: `${base}/p`, webhook: `${base}/w` }, 'success', summary, fast)).toEqual({ sent: [], errors: [] });
    expect(await notify({ ping: `${base}/p` }, 'failure', summary, fast)).toEqual({ sent: ['ping failure'], errors: [] });
    expect(received.map((r) => r.path)).toEqual(['/p/fail']);
  });

  it('retries a 500 and succeeds on the next answer', async () => {
    const { base, received } = await startReceiver([500]);
    expect(await notify({ on: ['failure'], webhook: `${base}/w` }, 'failure', summary, fast)).toEqual({
      sent: ['webhook failure'],
      errors: [],
    });
    expect(received).toHaveLength(2);
  });

  it("reports, without throwing and without the URL's secret path, a receiver that keeps failing", async () => {
    const { base, received } = await startReceiver([503, 503, 503, 503]);
    const result = await notify({ on: ['failure'], ping: `${base}/ping/secret-uuid` }, 'failure', summary, fast);
    expect(result.sent).toEqual([]);
    expect(result.errors).toEqual([`ping failure: HTTP 503 from ${new URL(base).host} (after 3 attempts)`]);
    expect(result.errors.join()).not.toContain('secret-uuid');
    expect(received).toHaveLength(3);
  });

  it('does not retry a 4xx answer', async () => {
    const { base, received } = await startReceiver([404]);
    const result = await notify({ on: ['failure'], webhook: `${base}/w` }, 'failure', summary, fast);
    expect(result.errors).toEqual([`webhook failure: HTTP 404 from ${new URL(base).host}`]);
    expect(received).toHaveLength(1);
  });

  it('reports an unreachable receiver and an invalid URL, and still sends the other notification', async () => {
    const { base, received } = await startReceiver();
    const port = await findFreePort(); // nothing listens there
    const result = await notify({ on: ['failure'], ping: `http://127.0.0.1:${port}/ping/x`, webhook: `${base}/w` }, 'failure', summary, {
      ...fast,
      retries: 1,
    });
    expect(result.sent).toEqual(['webhook failure']);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatch(new RegExp(`^ping failure: 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.* \\(after 2 attempts\\)$`));
    expect(received).toHaveLength(1);

    expect(await notify({ on: ['failure'], webhook: 'ftp://example.test/x' }, 'failure', summary, fast)).toEqual({
      sent: [],
      errors: ['webhook failure: not an http(s) URL'],
    });
  });

  it('gives up on a receiver that does not answer within the timeout', async () => {
    server = createServer(() => {
      // never answers
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const started = Date.now();
    const result = await notify({ on: ['failure'], webhook: `http://127.0.0.1:${port}/w` }, 'failure', summary, {
      timeoutMs: 200,
      retries: 1,
      retryDelayMs: 10,
    });
    expect(result.errors).toEqual([`webhook failure: 127.0.0.1:${port}: no answer within 200ms (after 2 attempts)`]);
    expect(Date.now() - started).toBeLessThan(3000);
    server.closeAllConnections();
  });
});
