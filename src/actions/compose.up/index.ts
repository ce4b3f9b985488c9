// compose.up: starts the services of the stack's compose file with whichever Compose the machine has
// (v2 `docker compose` or Debian 12's v1 `docker-compose`; lib/compose.sh), and proves they run.
import type { ComposeUpInput } from '../../runbook/schema.generated.js';
import { callShell, type Action } from '../action.js';

export const composeUp: Action<ComposeUpInput> = {
  name: 'compose.up',
  description:
    "Creates and starts the services of a compose file (`up -d`; every service of the file unless `services` names some), with Compose v2 (`docker compose`) when the machine has it, else v1 (`docker-compose`, Debian 12's package). Fails naming the Docker daemon when it does not answer, and the package when neither Compose is installed.",
  verifies: 'Every service asked for (every service of the file when `services` is empty) has a running container.',
  requires: () => ['docker', 'comm'],
  destructive: () => false,
  expand: (input) => {
    const inputs = { FILE: input.file, SERVICES: (input.services ?? []).join(' ') };
    return {
      run: callShell('rb_compose_up_run', inputs),
      verify: { run: callShell('rb_compose_up_verify', inputs), retries: 30, interval: '2s' },
    };
  },
};
