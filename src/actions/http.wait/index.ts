// http.wait: waits until a service's health endpoint answers the expected status (and body), so
// the next step does not talk to a service that is still starting.
import { usageError } from '../../errors.js';
import { parseDuration } from '../../runbook/duration.js';
import type { HttpWaitInput } from '../../runbook/schema.generated.js';
import { callShell, type Action } from '../action.js';

const defaultTimeout = '5m';
const defaultInterval = '2s';

/** Whole seconds for bash's `$SECONDS`, at least 1. */
const wholeSeconds = (duration: string): number => Math.max(1, Math.ceil(parseDuration(duration)! / 1000));

/** Seconds for `sleep`, which takes fractions (`200ms` → `0.2`). */
const sleepSeconds = (duration: string): string => String(parseDuration(duration)! / 1000);

export const httpWait: Action<HttpWaitInput> = {
  name: 'http.wait',
  description: "Polls a service's health endpoint until it answers the expected status and body.",
  verifies: 'The endpoint answers the expected HTTP status and its body matches the pattern.',
  requires: () => ['curl', 'grep'],
  destructive: () => false,
  expand: (input, context) => {
    const timeout = input.timeout ?? defaultTimeout;
    const interval = input.interval ?? defaultInterval;
    if (input.body !== undefined && input.body.includes('\n'))
      throw usageError(`step ${context.stepId}: http.wait: body must be one line (an extended regular expression)`);
    const inputs = { URL: input.url, STATUS: input.status ?? 200, BODY: input.body ?? '' };
    const run = callShell('rb_http_wait_run', {
      ...inputs,
      TIMEOUT_SECONDS: wholeSeconds(timeout),
      INTERVAL_SECONDS: sleepSeconds(interval),
    });
    return { run, verify: { run: callShell('rb_http_wait_verify', inputs), timeout: '15s' } };
  },
};
