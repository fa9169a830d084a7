import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * An upstream that speaks HTTP/1.1 by hand, for the faults a well-behaved server cannot make: a body cut
 * off mid-way, a body that trickles. `answer` gets the socket once a whole request (head and
 * Content-Length body) has arrived, and writes whatever bytes it likes. Verifies no signature: the rows
 * that use it are about what comes back, and the signing is proven by the verifying stub elsewhere.
 */
export interface RawUpstream {
  url: string;
  /** Requests received in full so far. */
  requests: number;
  close(): Promise<void>;
}

export async function startRawUpstream(answer: (socket: Socket) => void): Promise<RawUpstream> {
  const sockets = new Set<Socket>();
  const state = { requests: 0 };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(buffered.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      socket.off('data', onData);
      state.requests++;
      answer(socket);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port nothing listens on (probed, then closed): connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
