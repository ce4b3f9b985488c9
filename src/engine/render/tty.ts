// The listr2 task list for a terminal: one task per step, with elapsed time, attempt count and
// the last output line of the running step. An adapter over events; the engine knows nothing of it.
import { Listr, PRESET_TIMER, type ListrTaskWrapper } from 'listr2';
import type { TimedEvent } from '../events.js';

type End = { kind: 'done' } | { kind: 'skipped'; reason: string } | { kind: 'failed'; error: string };

export interface TtyRenderer {
  listener: (event: TimedEvent) => void;
  /** Settles once the task list has drawn its last frame. */
  done: () => Promise<void>;
}

export const createTtyRenderer = (options: { concurrency: number }): TtyRenderer => {
  const ends = new Map<string, { resolve: (end: End) => void; promise: Promise<End> }>();
  const tasks = new Map<string, ListrTaskWrapper<unknown, never, never>>();
  const names = new Map<string, string>();
  let list: Promise<unknown> = Promise.resolve();
  const settle = (id: string, end: End) => ends.get(id)?.resolve(end);

  const listener = (event: TimedEvent) => {
    switch (event.type) {
      case 'run-start': {
        for (const step of event.steps) {
          let resolve!: (end: End) => void;
          const promise = new Promise<End>((r) => (resolve = r));
          ends.set(step.id, { resolve, promise });
          names.set(step.id, step.name);
        }
        const listr = new Listr(
          event.steps.map((step) => ({
            title: `${step.cleanup ? 'cleanup: ' : ''}${step.name} ${'\u001b[2m'}[${step.id}]\u001b[22m`,
            task: async (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) => {
              tasks.set(step.id, task);
              const end = await ends.get(step.id)!.promise;
              if (end.kind === 'skipped') task.skip(`${step.name} — skipped: ${end.reason}`);
              if (end.kind === 'failed') throw new Error(`${step.id}: ${end.error}`);
            },
          })),
          {
            concurrent: options.concurrency > 1 ? options.concurrency : false,
            exitOnError: false,
            rendererOptions: { timer: PRESET_TIMER, collapseErrors: false, outputBar: 1, persistentOutput: false } as never,
          },
        );
        list = listr.run().catch(() => undefined);
        break;
      }
      case 'step-output': {
        const task = tasks.get(event.id);
        if (task) task.output = event.line;
        break;
      }
      case 'step-attempt': {
        const task = tasks.get(event.id);
        if (task && event.attempt > 1) task.title = `${names.get(event.id)} (attempt ${event.attempt})`;
        break;
      }
      case 'manual': {
        const task = tasks.get(event.id);
        if (task) task.output = event.instructions;
        break;
      }
      case 'step-done':
        settle(event.id, { kind: 'done' });
        break;
      case 'step-skipped':
        settle(event.id, { kind: 'skipped', reason: event.reason });
        break;
      case 'step-failed':
        settle(event.id, { kind: 'failed', error: event.error });
        break;
      case 'run-end':
        for (const id of ends.keys()) settle(id, { kind: 'skipped', reason: `not run (${event.outcome})` });
        break;
      default:
    }
  };
  return { listener, done: async () => void (await list) };
};
