import { canonicalParams, encodeRfc3986 } from './encoding.js';
import { webCrypto, type SigningCrypto } from './digests.js';

/**
 * The RPC HMAC-SHA1 signature (`SignatureVersion=1.0`, Alibaba Cloud "RPC signature mechanism",
 * https://help.aliyun.com/en/sdk/product-overview/rpc-mechanism): what the official fnf SDKs send. Params are
 * every query and form parameter except `Signature`.
 */
export function stringToSignRpc(method: string, params: Record<string, string>): string {
  return method.toUpperCase() + '&' + encodeRfc3986('/') + '&' + encodeRfc3986(canonicalParams(params));
}

export async function signRpc(method: string, params: Record<string, string>, accessKeySecret: string, digests: SigningCrypto = webCrypto): Promise<string> {
  return digests.hmacSha1Base64(accessKeySecret + '&', stringToSignRpc(method, params));
}
