import { LOG_PARTITION_COUNT } from '../../../store/keys.js';
import { AccountLayoutError } from '../account-layout.js';
import { execChecked } from './exec-checked.js';
import { upgradeJournalData } from './legacy-values.js';
import type { UpgradeContext } from './upgrade-context.js';
import { journalRewriteKey, type UpgradeState } from './upgrade-progress.js';

type StreamEntry = [id: Buffer, fields: Buffer[]];

/**
 * The journals phase: each log partition's journal stream is rewritten
 * whole, in place: same key, same entry ids, each entry's records re-encoded
 * (legacy-values.ts). Hold-expiry cursors (entry ids) stay valid, and a
 * record stays in the stream it was committed to even when its account's new
 * shard falls in another partition: readers address the account by the
 * record's (shard, ref), never by the stream's partition.
 *
 * Crash-safe without a cursor of its own: entries are copied, with their
 * ids, into a second stream (journalRewriteKey) while the journal is left
 * alone; the copy's last id is how far it got. Once the copy is whole, one
 * MULTI/EXEC gives it the journal's stream metadata (last id, entries added,
 * max deleted id: new XADD * ids keep growing past every id ever handed
 * out), RENAMEs it over the journal and moves the progress marker on.
 */
export async function upgradeJournals(ctx: UpgradeContext, state: UpgradeState): Promise<void> {
  const first = state.phase === 'journals' ? state.partition : 0;
  for (let partition = first; partition < LOG_PARTITION_COUNT; partition++)
    await upgradeJournal(ctx, partition);
}

async function upgradeJournal(ctx: UpgradeContext, partition: number): Promise<void> {
  const { redis, keys, progress } = ctx;
  const journal = keys.journal(partition);
  const copy = journalRewriteKey(keys, partition);
  const type = await redis.type(journal);
  if (type === 'none') {
    // No journal: nothing to rewrite (a copy without one cannot be left by this upgrade, but would be stale).
    const done = redis.multi().del(copy);
    progress.partitionDone(done, partition);
    await execChecked(done, `journal ${partition}`);
    return;
  }
  if (type !== 'stream') throw new AccountLayoutError(`${journal} is a ${type}, not a journal stream`);
  const before = await streamInfo(ctx, journal);
  // A consumer group would not survive the RENAME; the switch makes none, so one is a surprise worth stopping for.
  if (Number(before.get('groups') ?? 0) > 0)
    throw new AccountLayoutError(
      `${journal} has consumer groups, which the upgrade would lose; the upgrade stops`,
    );
  const [last] = await redis.xrevrange(copy, '+', '-', 'COUNT', 1);
  let after = last?.[0];
  // Not started on yet: a journal already in layout 3 (a repeated run) is left alone rather than copied for nothing.
  if (after === undefined && !(await holdsLegacyEntry(ctx, partition))) {
    const done = redis.multi();
    progress.partitionDone(done, partition);
    await execChecked(done, `journal ${partition}`);
    return;
  }
  let converted = 0;
  for (;;) {
    const entries = await readEntries(ctx, journal, after);
    if (entries.length === 0) break;
    if (converted === 0) await progress.noteConverting();
    // XADDs of one pipeline are applied in order: whatever a crash leaves of them is a prefix, and the copy's last id says where it ends.
    const copying = redis.pipeline();
    for (const [id, fields] of entries) copying.xadd(copy, id, ...upgradedFields(ctx, partition, id, fields));
    await execChecked(copying, `rewriting journal ${partition}`);
    after = entries[entries.length - 1]![0].toString();
    converted += entries.length;
    ctx.report.counts.journalEntries += entries.length;
    ctx.report.tick('journals', { partition });
  }
  const replacing = redis.multi();
  if (after !== undefined) {
    const lastId = String(before.get('last-generated-id'));
    const entriesAdded = before.get('entries-added');
    const maxDeletedId = before.get('max-deleted-entry-id');
    // Redis 7 keeps how many entries were ever added and the largest id deleted; 6.2 only the last id.
    if (entriesAdded !== undefined && maxDeletedId !== undefined)
      replacing.xsetid(
        copy,
        lastId,
        'ENTRIESADDED',
        String(entriesAdded),
        'MAXDELETEDID',
        String(maxDeletedId),
      );
    else replacing.xsetid(copy, lastId);
    replacing.rename(copy, journal);
  }
  // An empty journal (every entry deleted) holds nothing to rewrite: left as it is.
  progress.partitionDone(replacing, partition);
  await execChecked(replacing, `replacing journal ${partition}`);
}

/** Whether any entry of the partition's journal still needs converting (reads until it finds one). */
async function holdsLegacyEntry(ctx: UpgradeContext, partition: number): Promise<boolean> {
  let after: string | undefined;
  for (;;) {
    const entries = await readEntries(ctx, ctx.keys.journal(partition), after);
    if (entries.length === 0) return false;
    for (const [id, fields] of entries) {
      if (upgradedFields(ctx, partition, id, fields).some((field, i) => field !== fields[i])) return true;
    }
    after = entries[entries.length - 1]![0].toString();
  }
}

/** The journal's next entries after the id `after` (from the start when undefined). */
async function readEntries(
  ctx: UpgradeContext,
  journal: string,
  after: string | undefined,
): Promise<StreamEntry[]> {
  return (await ctx.redis.xrangeBuffer(
    journal,
    after === undefined ? '-' : `(${after}`,
    '+',
    'COUNT',
    ctx.batch.journalEntriesPerRead,
  )) as StreamEntry[];
}

/** An entry's fields with its `d` (the records) re-encoded; other fields as they are. */
function upgradedFields(ctx: UpgradeContext, partition: number, id: Buffer, fields: Buffer[]): Buffer[] {
  const out = fields.slice();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i]!.toString() !== 'd') continue;
    try {
      out[i + 1] = upgradeJournalData(fields[i + 1]!, ctx.refs) ?? fields[i + 1]!;
    } catch (error) {
      throw new AccountLayoutError(
        `journal ${partition}, entry ${id.toString()}: cannot be read (${(error as Error).message}); ` +
          'the upgrade stops (inspect the entry, and XDEL it if it is garbage)',
      );
    }
  }
  return out;
}

/** XINFO STREAM's scalar fields by name. */
async function streamInfo(ctx: UpgradeContext, stream: string): Promise<Map<string, unknown>> {
  const reply = (await ctx.redis.xinfo('STREAM', stream)) as unknown[];
  const info = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) info.set(String(reply[i]), reply[i + 1]);
  return info;
}
