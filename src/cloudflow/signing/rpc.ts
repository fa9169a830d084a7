import { canonicalParams, encodeRfc3986 } from './encoding.js';
import { webCrypto, type SigningCrypto } from './digests.js';

/**
 * The RPC HMAC-SHA1 signature (`SignatureVersion=1.0`), reference/cloudflow-api.md §2.4: what the
 * official fnf SDKs send. Params are every query and form parameter except `Signature`.
 */
export function stringToSignRpc(method: string, params: Record<string, string>): string {
  return method.toUpperCase() + '&' + encodeRfc3986('/') + '&' + encodeRfc3986(canonicalParams(params));
}

export async function signRpc(method: string, params: Record<string, string>, accessKeySecret: string, digests: SigningCrypto = webCrypto): Promise<string> {
  return digests.hmacSha1Base64(accessKeySecret + '&', stringToSignRpc(method, params));
}
