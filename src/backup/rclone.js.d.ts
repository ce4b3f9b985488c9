// rclone.js ships no types; src/backup/rclone.ts is the only module that loads it.
declare module 'rclone.js' {
  import type { ChildProcess } from 'node:child_process';
  const rclone: (...args: unknown[]) => ChildProcess;
  export default rclone;
}
