import { sleep } from '../harness/processes.js';
import type { RunningSwitch } from './switch-proc.js';

/** The admin API's clearing calls the clearing rows make (docs/protocol.md sections 6 and 7). */

/** POST /clearing/cutoff: the number of the cycle it closed, and when its answer came (performance.now()). */
export async function cutoff(sw: RunningSwitch): Promise<{ cycle: number; answeredAtMs: number }> {
  const answer = await sw.adminCall('POST', '/clearing/cutoff');
  const answeredAtMs = performance.now();
  if (answer.status !== 200) throw new Error(`POST /clearing/cutoff: HTTP ${answer.status}: ${answer.text}`);
  return { cycle: (JSON.parse(answer.text) as { cycle: number }).cycle, answeredAtMs };
}

export interface CycleEnd {
  readonly status: 'done' | 'failed';
  readonly items: number;
  /** performance.now() of the first answer that said so: within one poll of the moment it ended. */
  readonly seenAtMs: number;
}

/**
 * Polls GET /clearing/cycles/{cycle} every `pollMs` until its settlement is
 * no longer `closing`; rejects after `timeoutMs`.
 */
export async function cycleEnd(
  sw: RunningSwitch,
  cycle: number,
  pollMs: number,
  timeoutMs: number,
): Promise<CycleEnd> {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  while (performance.now() < deadline) {
    const answer = await sw.adminCall('GET', `/clearing/cycles/${cycle}`);
    const seenAtMs = performance.now();
    last = `HTTP ${answer.status}: ${answer.text}`;
    if (answer.status !== 200) throw new Error(`GET /clearing/cycles/${cycle}: ${last}`);
    const settlement = JSON.parse(answer.text) as { status: string; items: number };
    if (settlement.status === 'done' || settlement.status === 'failed') {
      return { status: settlement.status, items: settlement.items, seenAtMs };
    }
    await sleep(pollMs);
  }
  throw new Error(`clearing cycle ${cycle} not ended within ${timeoutMs} ms: ${last}`);
}
