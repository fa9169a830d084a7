/**
 * The STS side's refusals (STS API reference, error codes), and the code the gateway of every product answers
 * for a temporary key past its expiry (the common error codes). Merged into the emulator's one error table.
 */
export const STS_ERRORS = {
  'InvalidSecurityToken.Expired': { status: 400, message: 'Specified SecurityToken is expired.' },
  MissingParameter: { status: 400, message: 'The input parameter that is mandatory for processing this request is not supplied.' },
  'InvalidParameter.RoleArn': { status: 400, message: 'The parameter RoleArn is wrongly formed.' },
  'InvalidParameter.RoleSessionName': { status: 400, message: 'The parameter RoleSessionName is wrongly formed.' },
  'InvalidParameter.DurationSeconds': { status: 400, message: 'The Min/Max value of DurationSeconds is 15min/12hr.' },
  'InvalidParameter.PolicyGrammar': { status: 400, message: 'The parameter Policy has not passed grammar check.' },
  'InvalidParameter.OIDCProviderArn': { status: 400, message: 'The parameter OIDCProviderArn is wrongly formed.' },
  'AuthenticationFail.OIDCToken.Invalid': { status: 401, message: 'The OIDCToken is invalid.' },
  'AuthenticationFail.OIDCToken.Expired': { status: 401, message: 'This JsonWebToken is expired.' },
} as const;
