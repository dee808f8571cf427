import type { IncomingMessage, ServerResponse } from 'node:http';
import { AMOUNT_MAX } from '../protocol/validate-request.js';
import type { LedgerEngine } from '../runtime/ledger-engine.js';
import type { AdminOutcome } from '../runtime/worker/worker-protocol.js';
import { holdsPanShapedRun } from '../util/pan.js';
import {
  asObject,
  bad,
  onlyKeys,
  parseBalance,
  parseCurrency,
  parseLimits,
  parseStatus,
  REFERENCE_BYTES_MAX,
  requirePan,
} from './account-body.js';
import { seedAccounts } from './account-seed.js';
import type { AdminServer } from './admin-server.js';
import { HttpError, readJsonBody, sendJson } from './http-json.js';

/**
 * docs/protocol.md section 6: the account calls. The PAN in the URL goes to
 * the owning worker, which tokenizes it; every answer carries the masked PAN
 * the account stores (AccountView.pan).
 */

function answer(res: ServerResponse, outcome: AdminOutcome, okStatus: number): void {
  if (!outcome.ok) throw new HttpError(outcome.code, outcome.message);
  sendJson(res, outcome.created === true ? 201 : okStatus, outcome.account);
}

export function registerAccountRoutes(admin: AdminServer, ledger: LedgerEngine): void {
  admin.route('PUT', '/accounts/{pan}', async (req: IncomingMessage, res: ServerResponse, params) => {
    const pan = requirePan(params.pan);
    const body = asObject(await readJsonBody(req));
    onlyKeys(body, ['currency', 'balance', 'limits', 'status'], 'body');
    const outcome = await ledger.admin({
      k: 'put',
      pan,
      currency: parseCurrency(body.currency),
      balance: parseBalance(body.balance),
      limits: parseLimits(body.limits),
      status: parseStatus(body.status),
      createOnly: false,
    });
    answer(res, outcome, 200);
  });

  admin.route('GET', '/accounts/{pan}', async (_req, res, params) => {
    answer(res, await ledger.admin({ k: 'get', pan: requirePan(params.pan) }), 200);
  });

  admin.route('POST', '/accounts/{pan}/adjust', async (req, res, params) => {
    const pan = requirePan(params.pan);
    const body = asObject(await readJsonBody(req));
    onlyKeys(body, ['amount', 'reference'], 'body');
    const { amount, reference } = body;
    if (
      typeof amount !== 'number' ||
      !Number.isSafeInteger(amount) ||
      amount === 0 ||
      Math.abs(amount) > AMOUNT_MAX
    ) {
      throw bad('amount must be a non-zero integer (minor units; negative debits), |amount| <= 10^15');
    }
    if (
      typeof reference !== 'string' ||
      reference.length === 0 ||
      Buffer.byteLength(reference) > REFERENCE_BYTES_MAX
    ) {
      throw bad(`reference must be a non-empty string of at most ${REFERENCE_BYTES_MAX} bytes`);
    }
    // Kept as written in the account's log and the journal (it is the adjustment's key), so it
    // may not carry a card number (issue 16): no run of 12 digits or more, where one could be.
    if (holdsPanShapedRun(reference))
      throw bad('reference must not hold a run of 12 or more digits (a card number could be in it)');
    answer(res, await ledger.admin({ k: 'adjust', pan, amount, reference }), 200);
  });

  admin.route('POST', '/accounts/bulk', async (req, res) => {
    const body = asObject(await readJsonBody(req));
    sendJson(res, 200, await seedAccounts(ledger, body));
  });
}
