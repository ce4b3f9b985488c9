// A faulty network in front of the S3 endpoint, on loopback: a TCP proxy that forwards until a
// connection has sent N bytes upstream and then cuts it, or that answers every request with 503.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type ProxyFault =
  /** Forward, but destroy both sides once a connection has sent this many bytes to the server. */
  | { kind: 'cut-after'; bytes: number }
  /** Answer every request with `503 Service Unavailable` (nothing is forwarded). */
  | { kind: '503' };

export interface FaultyProxy {
  port: number;
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  /** Connections cut or refused so far. */
  faults: () => number;
  stop: () => Promise<void>;
}

const unavailable =
  'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nConnection: close\r\nContent-Length: 118\r\n\r\n' +
  '<?xml version="1.0"?><Error><Code>ServiceUnavailable</Code><Message>injected by the test</Message></Error>'.padEnd(118);

export const startFaultyProxy = (target: { host: string; port: number }, fault: ProxyFault): Promise<FaultyProxy> =>
  new Promise((resolve, reject) => {
    let faults = 0;
    const sockets = new Set<Socket>();
    const server: Server = createServer((client) => {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      client.on('error', () => client.destroy());
      if (fault.kind === '503') {
        client.once('data', () => {
          faults++;
          client.end(unavailable);
        });
        return;
      }
      const upstream = createConnection(target);
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      let sent = 0;
      client.on('data', (chunk: Buffer) => {
        if (sent + chunk.length > fault.bytes) {
          upstream.write(chunk.subarray(0, Math.max(0, fault.bytes - sent)));
          faults++;
          // A reset, not a clean close: what a dropped link looks like to both ends.
          client.resetAndDestroy();
          upstream.resetAndDestroy();
          return;
        }
        sent += chunk.length;
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => client.write(chunk));
      client.on('end', () => upstream.end());
      upstream.on('end', () => client.end());
    });
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (!address || typeof address === 'string') return reject(new Error('proxy has no port'));
      resolve({
        port: address.port,
        endpoint: `http://127.0.0.1:${address.port}`,
        faults: () => faults,
        stop: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
