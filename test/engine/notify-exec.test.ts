// A runbook's `notify` reaches a Healthchecks-style ping URL and a JSON webhook when it runs through
// `runbook exec` — checked against an HTTP server on 127.0.0.1 that records what it received.
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createGitRepo, type GitRepo } from '../helpers/git-repo.js';

interface Received {
  method: string;
  url: string;
  body: string;
}

let server: Server;
let port = 0;
let received: Received[] = [];
let repo: GitRepo | undefined;

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ method: request.method ?? '', url: request.url ?? '', body });
      response.end('OK');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));
afterEach(() => {
  repo?.remove();
  received = [];
});

const runbook = (step: string) => `runbook: 1
name: nightly
secrets: [TOKEN]
vars: { base: "http://127.0.0.1:PORT" }
notify:
  on: [start, success, failure]
  ping: \${{ vars.base }}/ping/abc
  webhook: \${{ vars.base }}/hook
steps:
  - id: only
    run: ${step}
    verify: test -d /
`;

const exec = (text: string) => {
  repo = createGitRepo({ 'nightly.yaml': text.replace('PORT', String(port)) });
  return runCli(['exec', 'nightly.yaml', '--state-dir', join(repo.dir, '.state'), '--output', 'plain'], {
    cwd: repo.dir,
    env: { ...process.env, TOKEN: 'token-value-123' },
  });
};

describe('notify through runbook exec', () => {
  it('pings start and success, and posts the run as JSON', async () => {
    const result = await exec(runbook('echo fine'));
    expect(result.code, result.stderr).toBe(0);
    const pings = received.filter((r) => r.url.startsWith('/ping/')).map((r) => r.url);
    expect(pings).toEqual(['/ping/abc/start', '/ping/abc']);
    const hooks = received.filter((r) => r.url === '/hook').map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(hooks.map((h) => h.outcome)).toEqual(['started', 'success']);
    expect(hooks[1]).toMatchObject({ runbook: 'nightly' });
  });

  it('pings /fail with the failed step when the run fails, and never sends a secret', async () => {
    const result = await exec(runbook('echo "$TOKEN"; exit 3'));
    expect(result.code).toBe(1);
    expect(received.map((r) => r.url)).toContain('/ping/abc/fail');
    const failure = received
      .filter((r) => r.url === '/hook')
      .map((r) => JSON.parse(r.body) as Record<string, unknown>)
      .at(-1);
    expect(failure).toMatchObject({ outcome: 'failed', failedStep: 'only' });
    expect(JSON.stringify(received)).not.toContain('token-value-123');
  });
});
