import type { Redis } from 'ioredis';
import type { KeySpace } from '../store/keys.js';
import { renderSettlementJson, type SettlementStatus } from './settlement.js';

/**
 * A closed clearing cycle's range of the journal (docs/clearing.md): every
 * journal entry whose stream id is at least `${startMs}-0` and below
 * `${cutMs}-0`, in every partition. Stream ids are the store's clock, so
 * the cut is taken on that clock, never on a switch's.
 */
export interface CycleRange {
  readonly cycle: number;
  readonly startMs: number;
  readonly cutMs: number;
  /** `schedule`: the cut is a multiple of clearing.cycleMs; `cutoff`: POST /clearing/cutoff at that moment. */
  readonly closedBy: 'schedule' | 'cutoff';
}

/** Cycles closed in one call at most: a store whose clock jumped years ahead does not stall Redis. */
const CYCLES_PER_CALL_MAX = 1_000;

/**
 * Closes what is due, in one atomic step on the store's clock: every cycle
 * whose next multiple of cycleMs the clock has passed (cut at that
 * multiple), then, for a cutoff, the open cycle at the clock's millisecond.
 * A closed cycle's settlement starts as `closing`, and the cycle joins the
 * not-done set under its cut (keys.clearingNotDone). Any journal entry
 * appended after this script has a stream id at or above the cut (Redis
 * gives stream ids from the same clock, never below the stream's last one),
 * so a closed cycle's range never gains an entry. Returns the closed
 * cycles as JSON ranges, oldest first.
 *
 * KEYS: open, cycles, settlements, not-done. ARGV: cycleMs, 'cutoff' or
 * 'due', max cycles, the text of a closing settlement with `%d` for the cycle.
 */
const CLOSE_CYCLES = `
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cycleMs = tonumber(ARGV[1])
local cycle = tonumber(redis.call('HGET', KEYS[1], 'cycle') or '1')
local startMs = tonumber(redis.call('HGET', KEYS[1], 'startMs') or '0')
local firstMs = tonumber(redis.call('HGET', KEYS[1], 'firstMs') or '0')
local closed = {}
local function close(cutMs, by)
  local range = cjson.encode({cycle = cycle, startMs = startMs, cutMs = cutMs, closedBy = by})
  redis.call('HSET', KEYS[2], tostring(cycle), range)
  redis.call('HSET', KEYS[3], tostring(cycle),
    string.format(ARGV[4], cycle))
  redis.call('ZADD', KEYS[4], string.format('%d', cutMs), tostring(cycle))
  table.insert(closed, range)
  cycle = cycle + 1
  startMs = cutMs
end
while #closed < tonumber(ARGV[3]) do
  local boundary = (math.floor(math.max(startMs, firstMs) / cycleMs) + 1) * cycleMs
  if boundary > nowMs then break end
  close(boundary, 'schedule')
end
if ARGV[2] == 'cutoff' then close(nowMs, 'cutoff') end
redis.call('HSET', KEYS[1], 'cycle', cycle, 'startMs', startMs)
return closed
`;

/**
 * Starts cycle 1 on a store that has none: it takes in the whole journal
 * (from 0), and its first scheduled cut is the first boundary after
 * `firstMs` (the journal's first entry, or now on an empty store), so no
 * empty cycles are made for the days before the switch had any.
 */
const OPEN_FIRST_CYCLE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'cycle', 1, 'startMs', 0, 'firstMs', ARGV[1])
return 1
`;

/**
 * Stores a cycle's settlement and keeps the progress index with it: a cycle
 * that is `done` leaves the not-done set and may raise `lastDone`; any other
 * status puts it (back) in the set under its cut. `lastDone` never goes
 * down: a rerun of a done cycle puts it back in the set, not below it.
 *
 * KEYS: settlements, cycles, not-done, progress. ARGV: cycle, the
 * settlement's text, its status.
 */
const SET_SETTLEMENT = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == 'done' then
  redis.call('ZREM', KEYS[3], ARGV[1])
  local last = tonumber(redis.call('HGET', KEYS[4], 'lastDone') or '0')
  if tonumber(ARGV[1]) > last then redis.call('HSET', KEYS[4], 'lastDone', ARGV[1]) end
else
  local range = redis.call('HGET', KEYS[2], ARGV[1])
  if range then
    redis.call('ZADD', KEYS[3], string.format('%d', cjson.decode(range).cutMs), ARGV[1])
  end
end
return 0
`;

/**
 * Builds the progress index from the settlements, once per store: a store
 * whose cycles were closed before the index existed has none of them in it.
 * Walks every settlement (a start-time step, like ClearingJobs.start's look
 * for unfinished cycles), then marks the store indexed, so it never runs
 * again and the scripts above keep the index from there on.
 *
 * KEYS: settlements, cycles, not-done, progress. Returns 1 when it built it.
 */
const INDEX_PROGRESS = `
if redis.call('HGET', KEYS[4], 'indexed') == '1' then return 0 end
local lastDone = tonumber(redis.call('HGET', KEYS[4], 'lastDone') or '0')
local settlements = redis.call('HGETALL', KEYS[1])
for i = 1, #settlements, 2 do
  local cycle = settlements[i]
  if cjson.decode(settlements[i + 1]).status == 'done' then
    redis.call('ZREM', KEYS[3], cycle)
    lastDone = math.max(lastDone, tonumber(cycle))
  else
    local range = redis.call('HGET', KEYS[2], cycle)
    if range then redis.call('ZADD', KEYS[3], string.format('%d', cjson.decode(range).cutMs), cycle) end
  end
end
redis.call('HSET', KEYS[4], 'lastDone', string.format('%d', lastDone), 'indexed', '1')
return 1
`;

/** Where clearing stands (for /metrics), on the store's clock. */
export interface ClearingProgressRead {
  /** The highest cycle that is done (0: none yet). */
  readonly lastDoneCycle: number;
  /** Now minus the cut of the oldest closed cycle not done (0: none waiting). */
  readonly lagMs: number;
}

/**
 * The clearing cycles in Redis (docs/clearing.md): numbered 1, 2, 3, ...,
 * the first starting at the beginning of the journal, each closed by the
 * schedule or a cutoff, with its settlement.
 */
export class CycleStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    private readonly cycleMs: number,
  ) {}

  /** Opens cycle 1 unless there are cycles already (`firstMs`: see OPEN_FIRST_CYCLE); true when it did. */
  async openFirst(firstMs: number): Promise<boolean> {
    return (await this.redis.eval(OPEN_FIRST_CYCLE, 1, this.keys.clearingOpen(), firstMs)) === 1;
  }

  /** Closes the cycles the store's clock has passed a boundary of; the ones closed, oldest first. */
  closeDue(): Promise<CycleRange[]> {
    return this.close('due');
  }

  /** Closes what is due, then the open cycle now (POST /clearing/cutoff); the ones closed, oldest first. */
  cutoff(): Promise<CycleRange[]> {
    return this.close('cutoff');
  }

  /** A closed cycle's range, or undefined (not closed yet, or never). */
  async range(cycle: number): Promise<CycleRange | undefined> {
    const json = await this.redis.hget(this.keys.clearingCycles(), String(cycle));
    return json === null ? undefined : (JSON.parse(json) as CycleRange);
  }

  /** The open cycle's number. */
  async openCycle(): Promise<number> {
    return Number((await this.redis.hget(this.keys.clearingOpen(), 'cycle')) ?? '1');
  }

  /** A cycle's settlement as settlement.json has it (the same bytes), or undefined for a cycle not closed. */
  async settlementText(cycle: number): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.clearingSettlements(), String(cycle))) ?? undefined;
  }

  async status(cycle: number): Promise<SettlementStatus | undefined> {
    const text = await this.settlementText(cycle);
    return text === undefined ? undefined : statusOf(text);
  }

  async setSettlementText(cycle: number, text: string): Promise<void> {
    await this.redis.eval(SET_SETTLEMENT, 4, ...this.progressKeys(), cycle, text, statusOf(text));
  }

  /** Builds the progress index on a store older than it (once; see INDEX_PROGRESS); true when it did. */
  async indexProgress(): Promise<boolean> {
    return (await this.redis.eval(INDEX_PROGRESS, 4, ...this.progressKeys())) === 1;
  }

  /**
   * Where clearing stands, in one round trip of three constant-time reads
   * (the store's clock, `lastDone`, the not-done set's first member): what
   * /metrics shows as switchyard_clearing_last_done_cycle and _lag_seconds.
   */
  async progress(): Promise<ClearingProgressRead> {
    const replies = await this.redis
      .multi()
      .time()
      .hget(this.keys.clearingProgress(), 'lastDone')
      .zrange(this.keys.clearingNotDone(), 0, 0, 'WITHSCORES')
      .exec();
    if (replies === null) throw new Error('clearing progress: the read was discarded');
    for (const [error] of replies) if (error !== null) throw error;
    const [seconds, micros] = replies[0]![1] as [string, string];
    const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const oldest = replies[2]![1] as string[];
    const cutMs = oldest.length === 2 ? Number(oldest[1]) : undefined;
    return {
      lastDoneCycle: Number((replies[1]![1] as string | null) ?? '0'),
      lagMs: cutMs === undefined ? 0 : Math.max(0, nowMs - cutMs),
    };
  }

  private progressKeys(): [string, string, string, string] {
    const { keys } = this;
    return [
      keys.clearingSettlements(),
      keys.clearingCycles(),
      keys.clearingNotDone(),
      keys.clearingProgress(),
    ];
  }

  /** Back to `closing` (a rerun): positions not final until its files are written again. */
  async reopen(cycle: number): Promise<void> {
    await this.setSettlementText(cycle, closingText(cycle));
  }

  /**
   * Where the oldest cycle not cleared yet starts: the first closed cycle
   * whose settlement is not `done` (a failed one is rerun from the journal),
   * else the open cycle.
   */
  async oldestUnclearedStartMs(): Promise<number> {
    const [open, settlements, ranges] = await Promise.all([
      this.redis.hget(this.keys.clearingOpen(), 'startMs'),
      this.redis.hgetall(this.keys.clearingSettlements()),
      this.redis.hgetall(this.keys.clearingCycles()),
    ]);
    let startMs = Number(open ?? '0');
    for (const [cycle, text] of Object.entries(settlements)) {
      const range = ranges[cycle];
      if (statusOf(text) === 'done' || range === undefined) continue;
      startMs = Math.min(startMs, (JSON.parse(range) as CycleRange).startMs);
    }
    return startMs;
  }

  /** Notes that journal entries below this (store clock ms) may be trimmed away; it only grows. */
  async noteTrimmedBelow(ms: number): Promise<void> {
    await this.redis.eval(
      `local at = tonumber(redis.call('HGET', KEYS[1], 'trimmedBelowMs') or '0')
       if tonumber(ARGV[1]) > at then redis.call('HSET', KEYS[1], 'trimmedBelowMs', ARGV[1]) end
       return 0`,
      1,
      this.keys.clearingOpen(),
      ms,
    );
  }

  /** The store clock ms below which the journal may have been trimmed (0: never trimmed). */
  async trimmedBelowMs(): Promise<number> {
    return Number((await this.redis.hget(this.keys.clearingOpen(), 'trimmedBelowMs')) ?? '0');
  }

  /** Closed cycles whose settlement is `closing`: each needs its clearing job. */
  async unfinished(): Promise<number[]> {
    const all = await this.redis.hgetall(this.keys.clearingSettlements());
    return Object.entries(all)
      .filter(([, text]) => statusOf(text) === 'closing')
      .map(([cycle]) => Number(cycle))
      .sort((a, b) => a - b);
  }

  private async close(mode: 'due' | 'cutoff'): Promise<CycleRange[]> {
    const closed = (await this.redis.eval(
      CLOSE_CYCLES,
      4,
      this.keys.clearingOpen(),
      this.keys.clearingCycles(),
      this.keys.clearingSettlements(),
      this.keys.clearingNotDone(),
      this.cycleMs,
      mode,
      CYCLES_PER_CALL_MAX,
      closingText(Number.NaN).replace('NaN', '%d'),
    )) as string[];
    return closed.map((json) => JSON.parse(json) as CycleRange);
  }
}

function closingText(cycle: number): string {
  return renderSettlementJson({ cycle, status: 'closing', items: 0, positions: [] });
}

function statusOf(settlementText: string): SettlementStatus {
  return (JSON.parse(settlementText) as { status: SettlementStatus }).status;
}
