/** Message type indicators of docs/protocol.md sections 2-4. */
export const MTI = {
  authRequest: '0100',
  authRepeat: '0101',
  authResponse: '0110',
  authAdvice: '0120',
  authAdviceRepeat: '0121',
  authAdviceResponse: '0130',
  financialRequest: '0200',
  financialRepeat: '0201',
  financialResponse: '0210',
  completion: '0220',
  completionRepeat: '0221',
  completionResponse: '0230',
  reversal: '0400',
  reversalRepeat: '0401',
  reversalResponse: '0410',
  reversalAdvice: '0420',
  reversalAdviceRepeat: '0421',
  reversalAdviceResponse: '0430',
  reject: '0620',
  network: '0800',
  networkResponse: '0810',
} as const;

/** Transaction request classes: a repeat (xxx1) is handled exactly as its original (xxx0). */
export type TxnClass = '0100' | '0200' | '0220' | '0400';

const TXN_CLASS_OF: Readonly<Record<string, TxnClass>> = {
  '0100': '0100',
  '0101': '0100',
  '0200': '0200',
  '0201': '0200',
  '0220': '0220',
  '0221': '0220',
  '0400': '0400',
  '0401': '0400',
};

export function txnClassOf(mti: string): TxnClass | undefined {
  return TXN_CLASS_OF[mti];
}

/** Request MTI + 10: 0100 -> 0110, 0101 -> 0110 (a repeat is answered as its original). */
export function responseMtiOf(txnClass: TxnClass | '0800'): string {
  switch (txnClass) {
    case '0100':
      return MTI.authResponse;
    case '0200':
      return MTI.financialResponse;
    case '0220':
      return MTI.completionResponse;
    case '0400':
      return MTI.reversalResponse;
    case '0800':
      return MTI.networkResponse;
  }
}

/** Network management codes carried in `code` of 0800/0810. */
export const NETWORK_CODE = {
  challenge: 'challenge',
  signon: 'signon',
  signoff: 'signoff',
  echo: 'echo',
} as const;

export type Role = 'acquirer' | 'issuer';
export const ROLES: readonly Role[] = ['acquirer', 'issuer'];
