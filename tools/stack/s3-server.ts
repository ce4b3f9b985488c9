// Entry of the S3 child process: s3rver on loopback, so a slow upload never blocks the test's event loop.
// Kept free of TypeScript-only syntax: s3.ts runs this very text with `node -e` when only the source exists (vitest).
// Configuration arrives as JSON in S3_SERVER_CONFIG: {port, directory, bucket}.
// @ts-expect-error s3rver ships no type declarations
import S3rver from 's3rver';

const config = JSON.parse(process.env.S3_SERVER_CONFIG ?? '{}');
const server = new S3rver({
  address: '127.0.0.1',
  port: config.port ?? 0,
  directory: config.directory,
  silent: true,
  configureBuckets: [{ name: config.bucket ?? 'backups' }],
});
const address = await server.run();
process.stdout.write(`ready ${address.port}\n`);
// The parent holds our stdin open; when it dies without stopping us, the pipe closes and we follow.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => server.close(() => process.exit(0)));
