import { resolvePlan } from '../engine/resolve.js';
import { parseVarArguments } from '../engine/vars.js';
import { readEnvFile } from '../engine/env-file.js';
import { planAsJson, renderPlanText } from '../report/plan-text.js';
import { createMasker, maskRecord } from '../engine/mask.js';

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
  // A value derived from a secret (`\${{ env.SECRET }}` in a var or an input) is masked like exec masks it.
  const mask = createMasker(plan.secrets.map((name) => processEnv[name]).filter((value): value is string => Boolean(value)));
  process.stdout.write(
    options.format === 'json' ? JSON.stringify(maskRecord(planAsJson(plan), mask), null, 2) + '\n' : mask(renderPlanText(plan)),
  );
};
