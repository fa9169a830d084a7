import { request as httpRequest } from 'node:http';

import { answerOf, type Answer } from '../../helpers/post.js';

export type { Answer };

export async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  return answerOf(await fetch(url, init));
}

export const postJson = (url: string, body: string | undefined, headers: Record<string, string> = {}) =>
  send(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

/**
 * POSTs `prefix + fillBytes × "a" + suffix` with `Transfer-Encoding: chunked` (no Content-Length),
 * 16 KiB per chunk, pausing between chunks the way a real uploader is paced by the network. Like a
 * well-behaved client it stops sending once an answer arrives, and reports how much it had sent by
 * then: a server that refuses while streaming answers long before the whole body is out.
 */
export function postChunked(
  url: string,
  parts: { prefix: string; fillBytes: number; suffix: string },
): Promise<{ status: number; text: string; sentBeforeAnswer: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = httpRequest(url, { agent: false, method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      answered = true;
      const sentBeforeAnswer = sent;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, text, sentBeforeAnswer });
        req.destroy();
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      // A server that refused the body may close the connection while the client is still writing.
      if (!answered && error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    let filled = 0;
    req.write(parts.prefix);
    sent += Buffer.byteLength(parts.prefix);
    const pump = () => {
      if (answered || req.destroyed) return;
      if (filled >= parts.fillBytes) return void req.end(parts.suffix);
      const piece = chunk.subarray(0, Math.min(chunk.length, parts.fillBytes - filled));
      filled += piece.length;
      sent += piece.length;
      req.write(piece, () => setTimeout(pump, 2));
    };
    pump();
  });
}
