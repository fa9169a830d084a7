import { gatewayError } from '../errors.js';
import { utf8 } from '../lib/bytes.js';
import { isFormType, isJsonType } from '../lib/media-type.js';
import { bodyText, jsonInput, jsonTextInput, valueInput, type DecodedInput } from '../middleware/input.js';
import { formFields, formPairs } from './form.js';
import type { BodyFormat, BodyRule } from './types.js';

const JSON_ONLY = '"application/json"';
const JSON_OR_FORM = '"application/json" or "application/x-www-form-urlencoded"';

/**
 * A verified webhook body as the execution Input, by the sender's rule (see {@link BodyRule}):
 * - JSON: the body's own text, as on every flow (big numbers stay exact);
 * - form fields: an object of the fields (see `formFields` for names sent twice), serialized as JSON;
 * - a form's `payload` field: the JSON text in it, kept as sent;
 * - text (`hmac` with `body: text`): `{"body": "<the text>"}`.
 * An empty body without a content type is `{}`. Throws 415 `UnsupportedMediaType` for a content type the
 * rule does not read, 400 `InvalidArgument` for a body that is not what its type says.
 */
export function decodeWebhookBody(rule: BodyRule, contentType: string | undefined, raw: Uint8Array, maxJsonDepth: number): DecodedInput {
  const format = rule.format ?? formatOf(rule, contentType, raw);
  if (format === undefined) throw gatewayError('UnsupportedMediaType', rule.form ? JSON_OR_FORM : JSON_ONLY);
  if (format === 'json') return jsonInput(raw, maxJsonDepth);
  if (format === 'text') return valueInput({ body: bodyText(raw) });

  const pairs = formPairs(bodyText(raw));
  const form = rule.format === 'form' ? 'fields' : rule.form;
  const payloads = pairs.filter(([name]) => name === 'payload');
  if (form === 'payload' || (form === 'payload-or-fields' && payloads.length > 0)) {
    if (payloads.length !== 1) throw gatewayError('InvalidArgument', 'The form body must have exactly one "payload" field.');
    const payload = payloads[0]![1];
    return jsonTextInput(payload, utf8(payload).byteLength, maxJsonDepth, 'The "payload" field');
  }
  return valueInput(formFields(pairs));
}

/**
 * The media types a sender's bodies may have, for the OpenAPI document: JSON, the form type where the sender
 * posts forms, any type (`*\/*`) where a format reads every body one way.
 */
export function acceptedMediaTypes(rule: BodyRule): string[] {
  if (rule.format) return ['*/*'];
  return rule.form ? ['application/json', 'application/x-www-form-urlencoded'] : ['application/json'];
}

function formatOf(rule: BodyRule, contentType: string | undefined, raw: Uint8Array): BodyFormat | undefined {
  if (contentType === undefined || contentType === '') return raw.byteLength === 0 ? 'json' : undefined;
  if (isJsonType(contentType)) return 'json';
  if (rule.form && isFormType(contentType)) return 'form';
  return undefined;
}
