/**
 * Reads one RPC call off the wire: the raw body (bounded while streaming, chunked or not), the query, the form
 * body, and which signature style it carries. Business and common parameters may sit in the query or the form
 * body, as the RPC protocol allows (the legacy pop-core client puts everything, signature included, in the body).
 */
import { readLimited } from '../lib/read-limited.js';
import { emulatorError } from './errors.js';

export type SignatureStyle = 'v3' | 'rpc';

export interface RpcCall {
  method: string;
  /** Lowercased names. */
  headers: Record<string, string>;
  query: Record<string, string>;
  form: Record<string, string>;
  /** Exact body bytes, for the V3 payload hash. */
  body: Uint8Array<ArrayBuffer>;
  /** Query and form together (form wins), without `Signature`: what RPC signs and what actions read. */
  params: Record<string, string>;
  style: SignatureStyle | undefined;
  action: string | undefined;
  version: string | undefined;
}

const FORM_TYPE = 'application/x-www-form-urlencoded';
const decoder = new TextDecoder('utf-8', { fatal: true });

export async function readRpcCall(request: Request, maxBytes: number): Promise<RpcCall> {
  const method = request.method.toUpperCase();
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  const query = Object.fromEntries(new URL(request.url).searchParams);

  const read = method === 'GET' ? ({ ok: true, bytes: new Uint8Array(0) } as const) : await readLimited(request, maxBytes);
  if (!read.ok) {
    if (read.reason === 'too-large') throw emulatorError('EntityTooLarge', String(maxBytes));
    throw emulatorError('InvalidArgument', 'The request body could not be read.');
  }
  const body = read.bytes;

  let form: Record<string, string> = {};
  if (body.byteLength > 0) {
    const type = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== FORM_TYPE) throw emulatorError('UnsupportedMediaType', `${JSON.stringify(type.slice(0, 80))}; send ${FORM_TYPE}`);
    let text: string;
    try {
      text = decoder.decode(body);
    } catch {
      throw emulatorError('InvalidArgument', 'The form body is not valid UTF-8.');
    }
    form = Object.fromEntries(new URLSearchParams(text));
  }

  const { Signature: _signature, ...params } = { ...query, ...form };
  const style: SignatureStyle | undefined =
    query.Signature !== undefined || form.Signature !== undefined ? 'rpc' : headers.authorization !== undefined ? 'v3' : undefined;
  // V3 names the action and version in headers; RPC in parameters.
  const action = style === 'v3' ? (headers['x-acs-action'] ?? params.Action) : (params.Action ?? headers['x-acs-action']);
  const version = style === 'v3' ? (headers['x-acs-version'] ?? params.Version) : (params.Version ?? headers['x-acs-version']);
  return { method, headers, query, form, body, params, style, action, version };
}

/** The RPC `Signature`, wherever the client put it. */
export function rpcSignature(call: RpcCall): string | undefined {
  return call.query.Signature ?? call.form.Signature;
}
