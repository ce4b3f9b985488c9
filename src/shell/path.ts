// npm and npx put `node_modules/.bin` first on PATH, where shims such as rclone.js's `rclone` (no
// binary behind it here, flags mangled) would hide the system binaries that runbooks and backups mean.

const nodeModulesBin = /(^|[\\/])node_modules[\\/]\.bin[\\/]?$/;

/** `path` (a PATH value) without empty entries and `node_modules/.bin` folders. */
export const withoutNodeModulesBin = (path: string): string =>
  path
    .split(':')
    .filter((dir) => dir !== '' && !nodeModulesBin.test(dir))
    .join(':');
