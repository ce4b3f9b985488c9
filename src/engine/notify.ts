// Tells the outside world how a run went: a Healthchecks-style ping and/or a JSON webhook. A failed
// notification never fails or hides the run's result; it comes back as an error for the caller to
// report.
import { formatDuration } from '../runbook/duration.js';
import type { Notify } from '../runbook/schema.generated.js';

export type NotifyEvent = 'start' | 'success' | 'failure';

/** What a notification says about the run; the caller has already masked secrets in it. */
export interface RunSummary {
  runbook: string;
  runId: string;
  outcome: string;
  failedStep?: string;
  durationMs: number;
  host: string;
}

/** Which notifications went out, and which did not (without their URLs' secret parts). */
export interface NotifyResult {
  sent: string[];
  errors: string[];
}

/** Options of {@link notify}. */
export interface NotifyOptions {
  /** Limit for one HTTP request. @default 10000 */
  timeoutMs?: number;
  /** How many more times to try after a network error or a 5xx/429 answer. @default 2 */
  retries?: number;
  /** Pause before a retry, doubled each time. @default 1000 */
  retryDelayMs?: number;
}

// Ping URLs carry their token in the path (hc-ping.com/UUID) and webhooks often in the query, so
// messages name only the host.
const describeUrl = (url: URL): string => url.host;

/** Healthchecks' convention: URL/start when a run begins, URL on success, URL/fail on failure. */
export const pingUrl = (base: string, event: NotifyEvent): URL => {
  const url = new URL(base);
  const suffix = event === 'start' ? '/start' : event === 'failure' ? '/fail' : '';
  url.pathname = url.pathname.replace(/\/+$/, '') + suffix;
  return url;
};

/** One line a person reads in the ping log or a chat channel. */
export const describeRun = (event: NotifyEvent, summary: RunSummary): string => {
  if (event === 'start') return `${summary.runbook} started on ${summary.host} (run ${summary.runId})`;
  const failed = summary.failedStep ? ` at step ${summary.failedStep}` : '';
  return `${summary.runbook} ${summary.outcome}${failed} on ${summary.host} after ${formatDuration(summary.durationMs, { style: 'seconds' })} (run ${summary.runId})`;
};

const retryable = (status: number) => status >= 500 || status === 429;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** POSTs once per attempt until a 2xx/3xx answer; resolves with an error message or undefined. */
const post = async (
  url: URL,
  init: { body: string; contentType: string },
  options: Required<NotifyOptions>,
): Promise<string | undefined> => {
  let problem = '';
  for (let attempt = 0; attempt <= options.retries; attempt++) {
    if (attempt > 0) await sleep(options.retryDelayMs * 2 ** (attempt - 1));
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': init.contentType },
        body: init.body,
        redirect: 'follow',
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await response.body?.cancel();
      if (response.ok) return undefined;
      problem = `HTTP ${response.status} from ${describeUrl(url)}`;
      if (!retryable(response.status)) return problem;
    } catch (error) {
      const cause =
        (error as Error).name === 'TimeoutError'
          ? `no answer within ${options.timeoutMs}ms`
          : ((error as { cause?: Error }).cause?.message ?? (error as Error).message);
      problem = `${describeUrl(url)}: ${cause}`;
    }
  }
  return `${problem} (after ${options.retries + 1} attempts)`;
};

const parseUrl = (text: string): URL | undefined => {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Sends the notifications `config` asks for on `event`; never throws. `config.on` defaults to
 * failures only, as in the schema.
 */
export const notify = async (
  config: Notify,
  event: NotifyEvent,
  summary: RunSummary,
  options: NotifyOptions = {},
): Promise<NotifyResult> => {
  const settings: Required<NotifyOptions> = {
    timeoutMs: options.timeoutMs ?? 10_000,
    retries: options.retries ?? 2,
    retryDelayMs: options.retryDelayMs ?? 1000,
  };
  const result: NotifyResult = { sent: [], errors: [] };
  if (!(config.on ?? ['failure']).includes(event)) return result;

  const jobs: Promise<void>[] = [];
  const send = (label: string, target: string, build: (url: URL) => { url: URL; body: string; contentType: string }) => {
    const base = parseUrl(target);
    if (!base) {
      result.errors.push(`${label}: not an http(s) URL`);
      return;
    }
    const request = build(base);
    jobs.push(
      post(request.url, request, settings).then((error) => {
        if (error) result.errors.push(`${label}: ${error}`);
        else result.sent.push(label);
      }),
    );
  };

  if (config.ping) {
    send(`ping ${event}`, config.ping, () => ({
      url: pingUrl(config.ping!, event),
      body: describeRun(event, summary),
      contentType: 'text/plain; charset=utf-8',
    }));
  }
  if (config.webhook) {
    // `text` makes the same body readable by Slack- and Mattermost-style incoming webhooks.
    const body = JSON.stringify({ event, ...summary, text: describeRun(event, summary) });
    send(`webhook ${event}`, config.webhook, (url) => ({ url, body, contentType: 'application/json' }));
  }
  await Promise.all(jobs);
  result.sent.sort();
  result.errors.sort();
  return result;
};
