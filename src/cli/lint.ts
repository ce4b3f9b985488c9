export const lintCommand = async (_paths: string[], _options: Record<string, unknown>) => {
  throw new Error('lint: not yet written');
};
