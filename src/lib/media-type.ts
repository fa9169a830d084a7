/**
 * Media types of request bodies, by their `Content-Type` (parameters such as `charset` allowed; names
 * compared without case, RFC 9110 §8.3.1).
 */

const JSON_TYPE = /^application\/(?:json|[a-z0-9!#$&^_.+-]+\+json)\s*(?:;|$)/i;
const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(?:;|$)/i;

/** `application/json` or a structured `application/*+json` type (RFC 6839). */
export function isJsonType(contentType: string): boolean {
  return JSON_TYPE.test(contentType);
}

/** `application/x-www-form-urlencoded`, what HTML forms and many webhook senders post. */
export function isFormType(contentType: string): boolean {
  return FORM_TYPE.test(contentType);
}
