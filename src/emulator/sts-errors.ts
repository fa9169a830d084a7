/**
 * The STS side's refusals (STS API reference, error codes), and the code the gateway of every product answers
 * for a temporary key past its expiry (the common error codes). The same in both of the emulator's vocabularies;
 * errors.ts raises them beside the API reference's rows. `%s` is replaced by what went wrong.
 */
export const STS_ERRORS = {
  'InvalidSecurityToken.Expired': { status: 400, message: 'Specified SecurityToken is expired.' },
  MissingParameter: { status: 400, message: 'The input parameter "%s" that is mandatory for processing this request is not supplied.' },
  'InvalidParameter.RoleArn': { status: 400, message: 'The parameter RoleArn is wrongly formed.' },
  'InvalidParameter.RoleSessionName': { status: 400, message: 'The parameter RoleSessionName is wrongly formed.' },
  'InvalidParameter.DurationSeconds': { status: 400, message: 'The Min/Max value of DurationSeconds is 15min/12hr.' },
  'InvalidParameter.PolicyGrammar': { status: 400, message: 'The parameter Policy has not passed grammar check.' },
  'InvalidParameter.OIDCProviderArn': { status: 400, message: 'The parameter OIDCProviderArn is wrongly formed.' },
  'AuthenticationFail.OIDCToken.Invalid': { status: 401, message: 'The OIDCToken is invalid. %s' },
  'AuthenticationFail.OIDCToken.Expired': { status: 401, message: 'This JsonWebToken is expired.' },
  /** A key limited to some flows (`accessKeys[].flows`) holds no other permission, sts:AssumeRole included. */
  NoPermission: { status: 403, message: 'You are not authorized to do this action. You should be authorized by RAM. %s' },
} as const;

export type StsErrorCode = keyof typeof STS_ERRORS;
