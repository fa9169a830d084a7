/**
 * HTTP/1.1 edge rules on the Node server, over a raw socket: fetch will neither send `Expect: 100-continue`
 * and wait, nor send a transfer coding of our choosing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstreamStub, succeeded, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';

const LIMIT = 1024;

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One connection: what arrived so far, waits on arrival and close (events, not sleeps). */
class RawConnection {
  readonly socket: Socket;
  received = '';
  readonly closed: Promise<void>;
  private waiters: (() => void)[] = [];

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => {
      this.received += chunk;
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.socket.on('error', () => {});
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    void this.closed.then(() => {
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Resolves once `test(received)` holds; rejects if the connection closes first. */
  async until(test: (received: string) => boolean): Promise<void> {
    while (!test(this.received)) {
      if (this.socket.destroyed) throw new Error(`closed before the expected bytes; received: ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Waits for the final answers (interim 1xx answers included in `received`) and parses the first final one after `from`. */
  async response(from = 0): Promise<RawResponse> {
    await this.until((text) => parseResponse(text.slice(from)) !== undefined);
    return parseResponse(this.received.slice(from))!;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The first non-1xx response in `text`, once all of its Content-Length body has arrived. */
function parseResponse(text: string): RawResponse | undefined {
  let rest = text;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const status = Number(statusLine!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    rest = rest.slice(end + 4);
    if (status >= 200) {
      const length = Number(headers['content-length'] ?? 0);
      if (Buffer.byteLength(rest) < length) return undefined;
      return { status, headers, body: rest.slice(0, length) };
    }
  }
}

const chunkedBody = (json: string) => `${Buffer.byteLength(json).toString(16)}\r\n${json}\r\n0\r\n\r\n`;

describe('HTTP edge rules (Node server, raw sockets)', () => {
  let stub: UpstreamStub;
  let gw: TestGateway;
  let port: number;

  beforeAll(async () => {
    stub = await startUpstreamStub();
    stub.respond((call) => succeeded({ echo: JSON.parse(call.form.Input ?? '{}') }, call));
    gw = await startGateway({
      upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS },
      server: { maxBodySize: LIMIT },
      callers: { alice: { apiKeys: ['alice-key-0123456789abcdef'] } },
      flows: { echo: { access: 'public' }, private: { access: ['alice'] } },
    });
    port = Number(new URL(gw.url).port);
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
  });

  const head = (path: string, headers: string[]) =>
    `POST ${path} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;

  describe('Expect: 100-continue', () => {
    it('a declared Content-Length over the limit gets 413 in the envelope at once, without 100 Continue, and the connection closes', async () => {
      const cases = [
        { path: '/flows/echo/run', headers: [`Content-Length: ${LIMIT + 1}`, 'Expect: 100-continue'], status: 413, code: 'EntityTooLarge' },
        { path: '/flows/echo/run', headers: ['Content-Length: 10000000000', 'Expect: 100-Continue'], status: 413, code: 'EntityTooLarge' },
        // Refusals that come before the body keep their own answer, and get no 100 either.
        { path: '/flows/private/run', headers: [`Content-Length: ${LIMIT + 1}`, 'Expect: 100-continue'], status: 401, code: 'InvalidCredentials' },
        { path: '/flows/nope/run', headers: [`Content-Length: ${LIMIT + 1}`, 'Expect: 100-continue'], status: 404, code: 'FlowNotExists' },
      ];
      const before = stub.calls.length;
      for (const { path, headers, status, code } of cases) {
        const connection = new RawConnection(port);
        // The client sends the head only and waits, as a client expecting 100 does; it never sends the body.
        connection.send(head(path, headers));
        const answer = await connection.response();
        expect(connection.received.startsWith(`HTTP/1.1 ${status} `), connection.received).toBe(true);
        expect(connection.received).not.toContain('100 Continue');
        expect(answer.headers['content-type']).toMatch(/^application\/json/);
        expect(answer.headers['x-request-id']).toBeTruthy();
        expect(JSON.parse(answer.body)).toMatchObject({ RequestId: answer.headers['x-request-id'], Code: code });
        if (code === 'EntityTooLarge') expect(JSON.parse(answer.body).Message).toContain(`(${LIMIT} bytes)`);
        // The body will never come, so the connection must not wait for it or read later bytes as a request.
        expect(answer.headers.connection).toBe('close');
        await connection.closed;
      }
      expect(stub.calls.length).toBe(before);
    });

    it('under the limit, 100 Continue comes first, the body is read, and the connection stays usable', async () => {
      const connection = new RawConnection(port);
      try {
        connection.send(head('/flows/echo/run', ['Content-Length: 14', 'Expect: 100-continue']));
        await connection.until((text) => text.includes('\r\n\r\n'));
        expect(connection.received).toBe('HTTP/1.1 100 Continue\r\n\r\n');
        connection.send('{"step":"one"}');
        const first = await connection.response();
        expect(first.status).toBe(200);
        expect(JSON.parse(first.body)).toEqual({ echo: { step: 'one' } });
        expect(first.headers.connection).not.toBe('close');
        // A second request on the same connection.
        const offset = connection.received.length;
        connection.send(`${head('/flows/echo/run', ['Content-Length: 14'])}{"step":"two"}`);
        const second = await connection.response(offset);
        expect(second.status).toBe(200);
        expect(JSON.parse(second.body)).toEqual({ echo: { step: 'two' } });
      } finally {
        connection.close();
      }
    });
  });

  describe('Transfer-Encoding', () => {
    /** Sends one request with these Transfer-Encoding header lines and returns the answer. */
    const withCodings = async (lines: string[], path = '/flows/echo/run', method = 'POST') => {
      const connection = new RawConnection(port);
      try {
        const chunked = /chunked\s*$/i.test(lines.at(-1)!);
        const request = `${method} ${path} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n${lines.map((v) => `Transfer-Encoding: ${v}\r\n`).join('')}Connection: close\r\n\r\n${chunked ? chunkedBody('{"te":1}') : '{"te":1}'}`;
        connection.send(request);
        return { answer: await connection.response(), connection };
      } finally {
        await connection.closed;
      }
    };

    it('any coding other than chunked gets 501 NotImplemented in the envelope, and nothing runs', async () => {
      const before = stub.calls.length;
      // Node's parser refuses the first group itself; it passes the second (codings before a final chunked) on.
      const refusedByParser = [['gzip'], ['deflate'], ['identity'], ['chunked, gzip'], ['chunked, chunked'], ['chunked', 'gzip']];
      const passedByParser = [
        ['gzip, chunked'],
        ['gzip,chunked'],
        ['GZIP, CHUNKED'],
        ['compress, chunked'],
        ['identity, chunked'],
        ['x-custom, chunked'],
        ['gzip', 'chunked'],
      ];
      for (const lines of [...refusedByParser, ...passedByParser]) {
        const { answer } = await withCodings(lines);
        expect(answer.status, lines.join(' | ')).toBe(501);
        expect(answer.headers['content-type']).toMatch(/^application\/json/);
        const body = JSON.parse(answer.body);
        expect(body).toEqual({
          RequestId: answer.headers['x-request-id'],
          Code: 'NotImplemented',
          Message: 'The request uses a transfer coding other than "chunked", which is not supported.',
        });
        expect(body.RequestId).toBeTruthy();
      }
      expect(stub.calls.length).toBe(before);
    });

    it('a coding other than chunked is 501 on every route, not only where a body is read', async () => {
      const { answer } = await withCodings(['gzip, chunked'], '/healthz', 'GET');
      expect(answer.status).toBe(501);
      expect(JSON.parse(answer.body)).toMatchObject({ Code: 'NotImplemented' });
    });

    it('chunked in any case and with any whitespace is read as usual', async () => {
      for (const lines of [['chunked'], ['CHUNKED'], ['Chunked'], [' chunked '], ['\tchunked'], [', chunked']]) {
        const { answer } = await withCodings(lines);
        expect(answer.status, JSON.stringify(lines)).toBe(200);
        expect(JSON.parse(answer.body)).toEqual({ echo: { te: 1 } });
      }
    });

    it("other requests the parser refuses keep Node's own answers", async () => {
      const both = new RawConnection(port);
      both.send(`POST /flows/echo/run HTTP/1.1\r\nHost: gateway\r\nTransfer-Encoding: chunked\r\nContent-Length: 8\r\n\r\n${chunkedBody('{"te":1}')}`);
      await both.closed;
      expect(both.received).toBe('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      const huge = new RawConnection(port);
      huge.send(`GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`);
      await huge.closed;
      expect(huge.received).toBe('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');
    });
  });
});
