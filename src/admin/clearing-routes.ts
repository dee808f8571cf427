import type { ClearingJobs } from '../clearing/clearing-jobs.js';
import type { AdminServer } from './admin-server.js';
import { sendError, sendJson } from './http-json.js';

/** A cycle number as a path gives it: a positive integer written plainly, else undefined. */
function cycleOf(text: string | undefined): number | undefined {
  if (text === undefined || !/^[1-9][0-9]{0,15}$/.test(text)) return undefined;
  const cycle = Number(text);
  return Number.isSafeInteger(cycle) ? cycle : undefined;
}

/**
 * docs/protocol.md sections 6 and 7: `POST /clearing/cutoff` (closes the
 * open cycle now, 200 `{cycle}`), `GET /clearing/cycles/{cycle}` (its
 * settlement, 404 `cycle_not_found` for a cycle not closed), `POST
 * /clearing/cycles/{cycle}/rerun` (202 `{cycle}`; 409 `cycle_running` while
 * its job is queued or running).
 */
export function registerClearingRoutes(admin: AdminServer, clearing: ClearingJobs): void {
  admin.route('POST', '/clearing/cutoff', async (_req, res) => {
    sendJson(res, 200, { cycle: await clearing.cutoff() });
  });

  admin.route('GET', '/clearing/cycles/{cycle}', async (_req, res, params) => {
    const cycle = cycleOf(params['cycle']);
    const settlement = cycle === undefined ? undefined : await clearing.cycles.settlementText(cycle);
    if (settlement === undefined) {
      sendError(res, 'cycle_not_found', notFound(params['cycle'], await clearing.cycles.openCycle()));
      return;
    }
    // The stored text as it is: the same bytes as the cycle's settlement.json (amounts past 2^53 stay exact).
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(settlement);
  });

  admin.route('POST', '/clearing/cycles/{cycle}/rerun', async (_req, res, params) => {
    const cycle = cycleOf(params['cycle']);
    const refusal = cycle === undefined ? 'unknown' : await clearing.rerun(cycle);
    if (refusal === 'unknown') {
      sendError(res, 'cycle_not_found', notFound(params['cycle'], await clearing.cycles.openCycle()));
    } else if (refusal === 'running') {
      sendError(res, 'cycle_running', `cycle ${cycle} is being cleared now; rerun it once it has ended`);
    } else {
      sendJson(res, 202, { cycle });
    }
  });
}

function notFound(asked: string | undefined, open: number): string {
  const closed = open === 1 ? 'none is closed yet' : `cycles 1 to ${open - 1} are closed`;
  return `no closed clearing cycle ${JSON.stringify(asked ?? '')}: ${closed}, ${open} is open`;
}
