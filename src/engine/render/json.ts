// One JSON event per line on stdout, for machines.
import type { TimedEvent } from '../events.js';

export const createJsonRenderer =
  (write: (text: string) => void = (text) => process.stdout.write(text)) =>
  (event: TimedEvent) => {
    write(JSON.stringify(event) + '\n');
  };
