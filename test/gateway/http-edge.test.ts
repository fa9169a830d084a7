/**
 * HTTP/1.1 edge rules on the Node server, over a raw socket: fetch will neither send `Expect: 100-continue`
 * and wait, nor send a transfer coding of our choosing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { answerClientError } from '../../src/platform/node/http-edge.js';
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
      const refusedByParser = [['gzip'], ['deflate'], ['identity'], ['chunked, gzip'], ['chunked', 'gzip'], ['chunked;q=1, gzip']];
      const passedByParser = [
        ['gzip, chunked'],
        ['gzip,chunked'],
        ['GZIP, CHUNKED'],
        ['compress, chunked'],
        ['identity, chunked'],
        ['x-custom, chunked'],
        ['gzip', 'chunked'],
        ['gzip;level=1, chunked'],
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

    /** One request sent whole; the answer and whether the connection then closed. */
    const exchange = async (request: string) => {
      const connection = new RawConnection(port);
      connection.send(request);
      const answer = await connection.response();
      await connection.closed;
      return { answer, received: connection.received };
    };
    const expectEnvelope = (answer: RawResponse, status: number, code: string) => {
      expect(answer.status, answer.body).toBe(status);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(answer.headers['x-request-id']).toBeTruthy();
      const body = JSON.parse(answer.body);
      expect(body).toMatchObject({ RequestId: answer.headers['x-request-id'], Code: code });
      expect(typeof body.Message).toBe('string');
    };

    it('Content-Length with Transfer-Encoding is 400 BadRequest in either order and with any codings, and the connection closes', async () => {
      const before = stub.calls.length;
      const heads = [
        ['Content-Length: 8', 'Transfer-Encoding: chunked'],
        ['Transfer-Encoding: chunked', 'Content-Length: 8'],
        ['Content-Length: 8', 'Transfer-Encoding: gzip'],
        ['Transfer-Encoding: gzip', 'Content-Length: 8'],
        ['Content-Length: 8', 'Transfer-Encoding: gzip, chunked'],
        ['Transfer-Encoding: gzip, chunked', 'Content-Length: 8'],
        ['Content-Length: 8', 'Transfer-Encoding:'],
        ['Transfer-Encoding:', 'Content-Length: 8'],
        ['Content-Length: 8', 'Transfer-Encoding: chunked', 'Expect: 100-continue'],
      ];
      for (const lines of heads) {
        // A body that reads one way by Content-Length and another way as chunks, and a request behind it.
        const { answer, received } = await exchange(
          `${head('/flows/echo/run', lines)}${chunkedBody('{"te":1}')}GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n`,
        );
        expect(answer.status, lines.join(' | ')).toBe(400);
        expectEnvelope(answer, 400, 'BadRequest');
        expect(JSON.parse(answer.body).Message).toMatch(/Content-Length/);
        expect(received).not.toContain('100 Continue');
        // Nothing after it was read as a request.
        expect(received.match(/HTTP\/1\.1 /g)).toHaveLength(1);
      }
      expect(stub.calls.length).toBe(before);
    });

    it('a Transfer-Encoding that names no other coding but is not "chunked" once is 400 BadRequest, not 501', async () => {
      for (const lines of [['chunked, chunked'], ['chunked', 'chunked'], ['chunked,'], ['chunked;q=1'], [''], [' , ']]) {
        // Node reads a message whose Transfer-Encoding names nothing as one without a body, so none is sent.
        const body = lines.some((line) => line.includes('chunked')) ? chunkedBody('{"te":1}') : '';
        const { answer } = await exchange(
          `POST /flows/echo/run HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n${lines.map((v) => `Transfer-Encoding: ${v}\r\n`).join('')}\r\n${body}`,
        );
        expect(answer.status, JSON.stringify(lines)).toBe(400);
        expectEnvelope(answer, 400, 'BadRequest');
        expect(JSON.parse(answer.body).Message, JSON.stringify(lines)).toMatch(/Transfer-Encoding/);
      }
    });

    it('Expect: 100-continue with a coding other than chunked gets its 501 without a 100 Continue', async () => {
      for (const coding of ['gzip', 'gzip, chunked', 'identity']) {
        const connection = new RawConnection(port);
        // The head only: a client waiting for 100 before it sends the body.
        connection.send(head('/flows/echo/run', [`Transfer-Encoding: ${coding}`, 'Expect: 100-continue']));
        const answer = await connection.response();
        expect(connection.received.startsWith('HTTP/1.1 501 '), `${coding}: ${connection.received}`).toBe(true);
        expectEnvelope(answer, 501, 'NotImplemented');
        await connection.closed;
      }
    });

    it("the answers Node's server makes itself come in the envelope, with their status, and close the connection", async () => {
      const cases: { request: string; status: number; code: string }[] = [
        // obs-fold (RFC 9112 §5.2), a space in a field name, a bad method, a version Node does not speak
        { request: 'GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Folded: a\r\n b\r\n\r\n', status: 400, code: 'BadRequest' },
        { request: 'GET /healthz HTTP/1.1\r\nHost: gateway\r\nX Bad: a\r\n\r\n', status: 400, code: 'BadRequest' },
        { request: 'GE T /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n', status: 400, code: 'BadRequest' },
        { request: 'GET /healthz HTTP/1.7\r\nHost: gateway\r\n\r\n', status: 400, code: 'BadRequest' },
        { request: 'POST /flows/echo/run HTTP/1.1\r\nHost: gateway\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}', status: 400, code: 'BadRequest' },
        { request: 'POST /flows/echo/run HTTP/1.1\r\nHost: gateway\r\nContent-Length: 2x\r\n\r\n{}', status: 400, code: 'BadRequest' },
        {
          request: 'POST /flows/echo/run HTTP/1.1\r\nHost: gateway\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
          status: 400,
          code: 'BadRequest',
        },
        { request: 'GET /healthz HTTP/1.1\r\n\r\n', status: 400, code: 'BadRequest' },
        { request: `GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431, code: 'RequestHeaderFieldsTooLarge' },
        { request: `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: gateway\r\n\r\n`, status: 431, code: 'RequestHeaderFieldsTooLarge' },
        {
          request: `POST /flows/echo/run HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2;${'x'.repeat(20_000)}\r\n{}\r\n0\r\n\r\n`,
          status: 413,
          code: 'ChunkExtensionsTooLarge',
        },
      ];
      for (const { request, status, code } of cases) {
        const { answer, received } = await exchange(request);
        expect(answer.status, `${request.slice(0, 80)}: ${received.slice(0, 200)}`).toBe(status);
        expectEnvelope(answer, status, code);
        expect(answer.headers.connection).toBe('close');
      }
    });

    it('Host is required of HTTP/1.1 requests only, and one without it gets no 100 Continue', async () => {
      const old = await exchange('GET /healthz HTTP/1.0\r\n\r\n');
      expect(old.answer.status).toBe(200);
      expect(JSON.parse(old.answer.body)).toEqual({ status: 'ok' });
      const connection = new RawConnection(port);
      connection.send('POST /flows/echo/run HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n');
      expectEnvelope(await connection.response(), 400, 'BadRequest');
      expect(connection.received).not.toContain('100 Continue');
      expect(JSON.parse((await connection.response()).body).Message).toMatch(/Host/);
      await connection.closed;
    });

    it('a request with two Host lines is 400 BadRequest whatever their case or values, and gets no 100 Continue', async () => {
      for (const hosts of ['Host: gateway\r\nHost: other', 'Host: gateway\r\nhOsT: gateway']) {
        for (const version of ['1.1', '1.0']) {
          const { answer } = await exchange(`GET /healthz HTTP/${version}\r\n${hosts}\r\n\r\n`);
          expectEnvelope(answer, 400, 'BadRequest');
          expect(JSON.parse(answer.body).Message).toMatch(/more than one Host/);
          expect(answer.headers.connection).toBe('close');
        }
      }
      const connection = new RawConnection(port);
      connection.send(
        'POST /flows/echo/run HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n',
      );
      expectEnvelope(await connection.response(), 400, 'BadRequest');
      expect(connection.received).not.toContain('100 Continue');
      await connection.closed;
    });

    it('an expectation other than 100-continue is 417 ExpectationFailed in the envelope, and nothing runs', async () => {
      const before = stub.calls.length;
      for (const expectation of ['foo', '200-ok', 'continue=100']) {
        const connection = new RawConnection(port);
        try {
          connection.send(`${head('/flows/echo/run', ['Content-Length: 2', `Expect: ${expectation}`])}{}`);
          const answer = await connection.response();
          expectEnvelope(answer, 417, 'ExpectationFailed');
          expect(connection.received).not.toContain('100 Continue');
        } finally {
          connection.close();
        }
      }
      expect(stub.calls.length).toBe(before);
    });

    it('a request target or Host that makes no URL is 400 BadRequest in the envelope', async () => {
      for (const request of [
        'OPTIONS * HTTP/1.1\r\nHost: gateway\r\n\r\n',
        'GET /a\\b HTTP/1.1\r\nHost: gateway\r\n\r\n',
        'GET /healthz HTTP/1.1\r\nHost: a@b\r\n\r\n',
        'GET http://[bad/ HTTP/1.1\r\nHost: gateway\r\n\r\n',
      ]) {
        const connection = new RawConnection(port);
        try {
          connection.send(request);
          expectEnvelope(await connection.response(), 400, 'BadRequest');
        } finally {
          connection.close();
        }
      }
    });
  });
});

describe("a parse error after an answer has started (Node's rule)", () => {
  /** A connection as Node's server holds it: `_httpMessage` is the answer being written, if any. */
  const connection = (headerSent: boolean | undefined) => {
    const socket = new PassThrough() as PassThrough & { _httpMessage?: { _headerSent: boolean } | null };
    socket._httpMessage = headerSent === undefined ? null : { _headerSent: headerSent };
    const written: string[] = [];
    socket.on('data', (chunk: Buffer) => written.push(chunk.toString('utf8')));
    socket.on('error', () => {});
    return { socket, written };
  };
  const parseError = Object.assign(new Error('Parse Error: Invalid header token'), { code: 'HPE_INVALID_HEADER_TOKEN' });

  it('is not answered once the answer on the connection has started, and the connection is closed', () => {
    const { socket, written } = connection(true);
    answerClientError(parseError, socket);
    expect(written).toEqual([]);
    expect(socket.destroyed).toBe(true);
  });

  it('is answered in the envelope when nothing has been written yet, and the connection is closed', async () => {
    for (const headerSent of [undefined, false]) {
      const { socket, written } = connection(headerSent);
      const ended = new Promise((resolve) => socket.once('close', resolve));
      answerClientError(parseError, socket);
      await ended;
      expect(written.join('')).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*connection: close\r\n\r\n\{"RequestId":"[^"]+","Code":"BadRequest"/);
      expect(socket.destroyed).toBe(true);
    }
  });
});
