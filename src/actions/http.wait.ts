// http.wait: waits until a service's health endpoint answers the expected status (and body), so
// the next step does not talk to a service that is still starting.
import { usageError } from '../errors.js';
import { parseDuration } from '../runbook/duration.js';
import type { HttpWaitInput } from '../runbook/schema.generated.js';
import { shellAssignments } from '../shell/quote.js';
import type { Action } from './action.js';

const defaultTimeout = '5m';
const defaultInterval = '2s';

/** Whole seconds for bash's `$SECONDS`, at least 1. */
const wholeSeconds = (duration: string): number => Math.max(1, Math.ceil(parseDuration(duration)! / 1000));

/** Seconds for `sleep`, which takes fractions (`200ms` → `0.2`). */
const sleepSeconds = (duration: string): string => String(parseDuration(duration)! / 1000);

// One function both run and verify define, so the check that ends the wait is the check verified.
const checkFunction = (input: HttpWaitInput): string[] => [
  'check_health() {',
  '  local response code',
  // curl's own message (refused, timed out) goes to stderr as it is.
  `  response=$(curl -sS --max-time 10 --write-out '\\n%{http_code}' "$URL") || return 1`,
  `  code=\${response##*$'\\n'}`,
  '  if [ "$code" != "$STATUS" ]; then',
  '    echo "$URL answered HTTP $code, expected $STATUS" >&2',
  '    return 1',
  '  fi',
  ...(input.body === undefined
    ? []
    : [
        `  if ! grep -Eq -- "$BODY" <<< "\${response%$'\\n'*}"; then`,
        '    echo "$URL answered HTTP $code, but the body does not match $BODY" >&2',
        '    return 1',
        '  fi',
      ]),
  '  echo "$URL answered HTTP $code"',
  '}',
];

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
    const head = shellAssignments({ URL: input.url, STATUS: input.status ?? 200, BODY: input.body });
    const run = [
      head,
      shellAssignments({ TIMEOUT_SECONDS: wholeSeconds(timeout), INTERVAL_SECONDS: sleepSeconds(interval) }),
      ...checkFunction(input),
      'deadline=$((SECONDS + TIMEOUT_SECONDS))',
      'until check_health; do',
      '  if [ "$SECONDS" -ge "$deadline" ]; then',
      '    echo "gave up: $URL was not healthy within ${TIMEOUT_SECONDS}s" >&2',
      '    exit 1',
      '  fi',
      '  sleep "$INTERVAL_SECONDS"',
      'done',
    ].join('\n');
    const verify = [head, ...checkFunction(input), 'check_health'].join('\n');
    return { run, verify: { run: verify, timeout: '15s' } };
  },
};
