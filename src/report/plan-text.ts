// Renders a plan for people: the order, and for each step the exact shell that exec hands to bash.
import { definitionsFor } from '../actions/library.js';
import { formatDuration } from '../runbook/duration.js';
import type { Plan, PlannedStep } from '../engine/plan-types.js';

const indent = (text: string, prefix = '      '): string =>
  text
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => (line ? prefix + line : prefix.trimEnd()))
    .join('\n');

/** Every shell text of `steps` (run and verify), as exec hands them to bash. */
export const shellTexts = (steps: readonly PlannedStep[]): string[] => steps.flatMap((step) => [step.run ?? '', step.verify.run]);

const describeStep = (step: PlannedStep, position: string, vars: Record<string, unknown>): string => {
  const lines = [`${position} ${step.id} — ${step.name}`];
  const facts = [
    step.needs.length ? `needs: ${step.needs.join(', ')}` : undefined,
    step.when ? `when: ${step.when}` : undefined,
    step.timeoutMs !== undefined ? `timeout: ${formatDuration(step.timeoutMs)}` : undefined,
    step.retries ? `retries: ${step.retries}` : undefined,
    step.continueOnError ? 'continue on error' : undefined,
    step.uses ? `uses: ${step.uses}` : undefined,
    step.provides.length ? `provides: ${step.provides.join(', ')}` : undefined,
  ].filter(Boolean);
  if (facts.length) lines.push(`    ${facts.join('   ')}`);
  if (step.confirm) lines.push(`    confirm: ${step.confirm}`);
  const env = Object.keys(step.env).filter((k) => !(k in vars));
  if (env.length) lines.push(`    env: ${env.join(', ')}`);
  if (step.manual) lines.push('    manual:', indent(step.manual));
  const library = definitionsFor(shellTexts([step])).map((unit) => unit.file);
  if (library.length) lines.push(`    shell library (defined before the text, see the end): ${library.join(', ')}`);
  if (step.run !== undefined) lines.push('    run:', indent(step.run));
  const v = step.verify;
  const polling = v.retries ? ` (up to ${v.retries + 1} tries, every ${formatDuration(v.intervalMs)})` : '';
  lines.push(`    verify${polling}:`, indent(v.run));
  if (v.expect) lines.push(`    expect stdout to match: /${v.expect}/`);
  return lines.join('\n');
};

/** `runbook plan` text output. */
export const renderPlanText = (plan: Plan): string => {
  const head = [
    `${plan.name}${plan.description ? ` — ${plan.description.trim()}` : ''}`,
    `kind: ${plan.kind}${plan.rto ? `   rto: ${plan.rto}` : ''}${plan.rpo ? `   rpo: ${plan.rpo}` : ''}${plan.environment ? `   environment: ${plan.environment}` : ''}`,
    `requires: ${plan.requires.join(', ')}`,
  ];
  if (plan.secrets.length) head.push(`secrets: ${plan.secrets.join(', ')}`);
  const vars = Object.entries(plan.vars);
  if (vars.length) head.push('vars:', ...vars.map(([k, v]) => `  ${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`));
  const body = plan.steps.map((step, i) => describeStep(step, `${i + 1}.`, plan.vars));
  const cleanup = plan.cleanup.map((step, i) => describeStep(step, `cleanup ${i + 1}.`, plan.vars));
  const units = definitionsFor(shellTexts([...plan.steps, ...plan.cleanup]));
  const library = units.length
    ? [
        'shell library: exec runs the definitions a text calls, in this order, right before the text',
        ...units.map((unit) => `--- ${unit.file}\n${indent(unit.text)}`),
      ]
    : [];
  return [head.join('\n'), ...body, ...(cleanup.length ? ['always, at the end:', ...cleanup] : []), ...library].join('\n\n') + '\n';
};

/**
 * `runbook plan --format json`: the plan as data, step env values omitted (they may hold secrets),
 * and so is each step's definition (the engine's input for resolving it again, not for people);
 * `library` holds the shell-library files the steps call, as exec puts them before a text.
 */
export const planAsJson = (plan: Plan): unknown => {
  const describe = ({ definition: _definition, ...step }: PlannedStep) => ({ ...step, env: Object.keys(step.env) });
  const library = definitionsFor(shellTexts([...plan.steps, ...plan.cleanup]));
  return {
    ...plan,
    library: library.map(({ file, functions, text }) => ({ file, functions, text })),
    steps: plan.steps.map(describe),
    cleanup: plan.cleanup.map(describe),
  };
};
