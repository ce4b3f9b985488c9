// `provides`: a step that installs commands (Docker on a fresh VPS) must not be refused up front for
// lacking them. Preflight defers a missing command to the first step that runs and provides it; each
// step looks for what it needs right before it starts; a provider is done only once its commands
// are on PATH.
import { missingCommands } from './missing-commands.js';
import type { Plan, PlannedStep } from './plan-types.js';

/** For each command some step of `runs` provides, the first such step in plan order. */
export const findProviders = (plan: Plan, runs: ReadonlySet<string>): Map<string, PlannedStep> => {
  const providers = new Map<string, PlannedStep>();
  for (const step of plan.steps) {
    if (!runs.has(step.id)) continue;
    for (const command of step.provides) if (!providers.has(command)) providers.set(command, step);
  }
  return providers;
};

/** A `uses` step of `runs` whose action calls `command` at or before `provider`: it cannot wait for it. */
export const needBeforeProvider = (
  plan: Plan,
  runs: ReadonlySet<string>,
  command: string,
  provider: PlannedStep,
): PlannedStep | undefined =>
  plan.steps
    .slice(0, plan.steps.indexOf(provider) + 1)
    .find((step) => runs.has(step.id) && step.kind === 'uses' && step.requires.includes(command));

/**
 * What `step` looks for on PATH right before it starts: a `uses` step its action's commands; a
 * `run` or `manual` step those of its runbook's `requires` that a provider running before it
 * supplies (the others were on PATH at preflight, and those provided later are not there yet).
 */
export const commandsBeforeStart = (plan: Plan, step: PlannedStep, providers: ReadonlyMap<string, PlannedStep>): string[] => {
  if (step.kind === 'uses') return step.requires;
  if (step.cleanup) return [];
  const position = plan.steps.indexOf(step);
  return step.requires.filter((command) => {
    const provider = providers.get(command);
    return provider !== undefined && plan.steps.indexOf(provider) < position;
  });
};

/** Why a step that passed its verification is not done: a command it provides is not on `path`. */
export const whyNotProvided = (step: PlannedStep, path: string): string | undefined => {
  const missing = missingCommands(step.provides, path);
  return missing.length > 0
    ? `step '${step.id}' passed its verification but does not provide ${missing.join(', ')}: not on PATH`
    : undefined;
};
