/** Response codes of docs/protocol.md section 3. Business outcomes are values, never exceptions. */
export const RC = {
  approved: '00',
  doNotHonour: '05',
  partial: '10',
  invalidTransaction: '12',
  invalidAmount: '13',
  invalidCard: '14',
  noRoute: '15',
  originalNotFound: '25',
  formatError: '30',
  insufficientFunds: '51',
  notPermitted: '57',
  exceedsAmountLimit: '61',
  securityViolation: '63',
  exceedsCountLimit: '65',
  issuerUnavailable: '91',
  duplicateMismatch: '94',
  systemMalfunction: '96',
} as const;

export type ResponseCode = (typeof RC)[keyof typeof RC];
