import { resolvePlan } from '../engine/resolve.js';
import { parseVarArguments } from '../engine/vars.js';
import { readEnvFile } from '../engine/env-file.js';
import { planAsJson, renderPlanText } from '../report/plan-text.js';

export interface PlanOptions {
  env?: string;
  var?: string[];
  envFile?: string;
  format: 'text' | 'json';
}

/** `runbook plan FILE`: the resolved order and the exact shell of every step. */
export const planCommand = (file: string, options: PlanOptions) => {
  const processEnv = { ...process.env, ...(options.envFile ? readEnvFile(options.envFile) : {}) };
  const plan = resolvePlan(file, { env: options.env, vars: parseVarArguments(options.var ?? []), processEnv });
  process.stdout.write(options.format === 'json' ? JSON.stringify(planAsJson(plan), null, 2) + '\n' : renderPlanText(plan));
};
