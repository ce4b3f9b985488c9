// npm and npx put `node_modules/.bin` first on PATH, where a package's shim of the same name (an
// `rclone` without a binary behind it, say) would hide the system binaries runbooks and backups mean.

const nodeModulesBin = /(^|[\\/])node_modules[\\/]\.bin[\\/]?$/;

/** `path` (a PATH value) without empty entries and `node_modules/.bin` folders. */
export const withoutNodeModulesBin = (path: string): string =>
  path
    .split(':')
    .filter((dir) => dir !== '' && !nodeModulesBin.test(dir))
    .join(':');
