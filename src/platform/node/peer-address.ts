import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Context } from 'hono';
import type { AppEnv } from '../../env.js';

/** Each open connection's peer address, read once when it was accepted. */
const peers = new WeakMap<Socket, string>();

/**
 * Records a connection's peer address as it is accepted (the server's `connection` event). Node reads
 * `socket.remoteAddress` from the operating system only while the socket is open, so a client that
 * sends a request and resets the connection at once would otherwise have no address by the time the
 * request is looked at, and would escape every limit keyed by it.
 */
export function rememberPeer(socket: Socket): void {
  const address = socket.remoteAddress;
  if (address !== undefined) peers.set(socket, address);
}

/**
 * The peer address of the connection a request came over (`127.0.0.1`, `::ffff:192.0.2.1`), as
 * recorded when it was accepted; read from the socket when it was not recorded (a server built
 * elsewhere). Undefined only when there is none: a connection that was already reset when it was
 * accepted, a Unix socket, a request not made over a connection.
 */
export function nodePeerAddress(c: Context<AppEnv>): string | undefined {
  // @hono/node-server passes { incoming, outgoing } as the bindings, or nests them under `server`.
  const env = c.env as { incoming?: IncomingMessage; server?: { incoming?: IncomingMessage } } | undefined;
  const socket = (env?.incoming ?? env?.server?.incoming)?.socket;
  if (!socket) return undefined;
  return peers.get(socket) ?? socket.remoteAddress;
}
