import type { KeySpace } from '../../../store/keys.js';
import { execChecked } from './exec-checked.js';
import { upgradeHoldMember } from './legacy-values.js';
import type { UpgradeContext } from './upgrade-context.js';
import { resumeCursor, type UpgradeState } from './upgrade-progress.js';

/** Members pushed per RPUSH when a bucket is written again (bounds one command's size). */
const MEMBERS_PER_PUSH = 1_000;

/** SCAN MATCH pattern of every log partition's hold buckets: `<prefix>:{j<p>}:holds:<bucket>`. */
export function holdBucketPattern(keys: KeySpace): string {
  return `${keys.prefix.replace(/[*?[\]\\]/g, '\\$&')}:{j*}:holds:*`;
}

/**
 * The holds phase: every hold bucket list whose members name a PAN
 * (`<PAN>#<recordKey>`, layout 2) is written again with layout 3 members
 * (`<shard>:<ref>#<recordKey>`), in one MULTI/EXEC (DEL, then RPUSH in the
 * same order), under the same key: hold expiry reads a bucket's members by
 * their own (shard, ref), whatever partition the bucket is filed under. A
 * member is converted from its PAN whether or not an account has that PAN
 * (hold expiry then finds no hold, as it would have). Found with SCAN
 * rather than through the bucket sets, so a bucket no set names (left by a
 * crash of an older build) is converted too. Buckets already converted are
 * passed over, so a resumed or repeated pass changes nothing.
 */
export async function upgradeHolds(ctx: UpgradeContext, state: UpgradeState): Promise<void> {
  const { redis, progress, runId } = ctx;
  let cursor = resumeCursor(state, 'holds', runId);
  do {
    const [next, buckets] = await redis.scan(
      cursor,
      'MATCH',
      holdBucketPattern(ctx.keys),
      'COUNT',
      ctx.batch.scanCount,
      'TYPE',
      'list',
    );
    if (buckets.length > 0) await upgradeBuckets(ctx, buckets);
    cursor = next;
    await progress.scanned('holds', cursor, runId);
  } while (cursor !== '0');
}

async function upgradeBuckets(ctx: UpgradeContext, buckets: readonly string[]): Promise<void> {
  const { redis } = ctx;
  const reading = redis.pipeline();
  for (const bucket of buckets) reading.lrange(bucket, 0, -1);
  const lists = (await execChecked(reading, 'reading hold buckets')) as string[][];
  const rewrites = buckets.flatMap((bucket, i) => {
    const members = lists[i]!;
    const upgraded = members.map((member) => upgradeHoldMember(member, ctx.refs));
    return upgraded.some((member, at) => member !== members[at]) ? [{ bucket, upgraded }] : [];
  });
  if (rewrites.length === 0) return;
  await ctx.progress.noteConverting();
  await Promise.all(
    rewrites.map(({ bucket, upgraded }) => {
      const rewrite = redis.multi().del(bucket);
      for (let at = 0; at < upgraded.length; at += MEMBERS_PER_PUSH)
        rewrite.rpush(bucket, ...upgraded.slice(at, at + MEMBERS_PER_PUSH));
      return execChecked(rewrite, 'rewriting a hold bucket');
    }),
  );
  ctx.report.counts.holdBuckets += rewrites.length;
  ctx.report.tick('holds');
}
