/**
 * The group-commit script: one atomic call per worker batch (DESIGN.md
 * section 1, "write-ahead, group commit").
 *
 * KEYS[1]: the owner's applied sequence (keys.appliedSeq): the number of the
 *          last batch this owner incarnation applied. Batches of one owner are
 *          numbered upward and sent in order, so one number per owner does what
 *          a guard key per batch did, without a key (and a TTL) per commit: a
 *          resent batch (number <= applied) is not applied again (2).
 * ARGV[1]: the fencing epoch the caller holds for every shard it touches.
 * ARGV[2]: the applied sequence's time to live, ms (refreshed by every commit).
 * ARGV[3]: the batch, one MessagePack array (decoded here with Redis's
 *          bundled cmsgpack):
 *   [1] epoch keys: each must hold ARGV[1], else nothing is written (-1);
 *                   read with one MGET (at most SHARD_COUNT keys, under unpack's limit)
 *   [2] compactions: {key, prefixBytes, data}: the account log at key
 *                   (runtime/storage/account-log.ts) gets `data` in place of its first
 *                   prefixBytes, what its actor read and compacted; what was
 *                   appended after that read stays. Skipped if the log is
 *                   shorter than prefixBytes (it cannot be: one owner writes
 *                   a log, and it compacts one read at a time).
 *   [3] APPEND ops: {key, data} (per account touched: its state, records and drops)
 *   [4] XADD ops:   {key, data} (one journal entry per log partition: its records, concatenated)
 *                   Hold expiry reads the holds placed from these entries (hold-expiry.ts): a
 *                   commit writes no index of its holds.
 *   [5] moves:      {from, to, alias, ref} (a re-key, docs/security.md "Rotation"): RENAME
 *                   from -> to (one hash tag: one slot), and SET alias = ref, the new ref, for
 *                   the journal records and hold buckets that still name the old one. Done
 *                   before [2] and [3], which then name `to`. Checked first: `to` must not
 *                   exist and `from` must (else -4, nothing written; the owner checked
 *                   both before deciding the move, so this guards a bug, not a race).
 *                   Optional: a blob of four sections has none.
 * ARGV[4]: this batch's number (> 0).
 * ARGV[5]: the number of the batch sent just before this one and still
 *          unanswered, or 0. This batch was decided on top of that one's
 *          state, so it applies only if that one did (else -3, nothing
 *          written): two commits can be in flight without a later one ever
 *          landing without its predecessor.
 *
 * Why one blob instead of thousands of KEYS/ARGV: encoding and parsing ~40k
 * RESP arguments per batch cost more CPU on both sides than the writes
 * themselves (profiled; see docs/performance-log.md). The data keys are not
 * declared in KEYS: on one node that is fine; under Redis Cluster each batch
 * goes to the node that owns its shards (scale-out issue), and every key
 * carries its shard's {hash tag}.
 *
 * All checks run before the first write, so a refused batch writes nothing;
 * Redis runs the script atomically and, with appendfsync always, replies only
 * after the AOF fsync. Returns 1 when applied, 2 when already applied, -1
 * when an epoch moved on, -3 when the predecessor did not apply, -4 when a
 * move's target exists or its source does not.
 */
export const COMMIT_SCRIPT = `#!lua flags=allow-cross-slot-keys
local applied = tonumber(redis.call('GET', KEYS[1]) or '0')
local seq = tonumber(ARGV[4])
if applied >= seq then return 2 end
local previous = tonumber(ARGV[5])
if previous > 0 and applied ~= previous then return -3 end
local epoch = ARGV[1]
local b = cmsgpack.unpack(ARGV[3])
if #b[1] > 0 then
  local held = redis.call('MGET', unpack(b[1]))
  for i = 1, #b[1] do
    if held[i] ~= epoch then return -1 end
  end
end
local moves = b[5] or {}
for _, op in ipairs(moves) do
  if redis.call('EXISTS', op[2]) == 1 or redis.call('EXISTS', op[1]) == 0 then return -4 end
end
for _, op in ipairs(moves) do
  redis.call('RENAME', op[1], op[2])
  redis.call('SET', op[3], op[4])
end
for _, op in ipairs(b[2]) do
  if redis.call('STRLEN', op[1]) >= op[2] then
    redis.call('SET', op[1], op[3] .. redis.call('GETRANGE', op[1], op[2], -1))
  end
end
for _, op in ipairs(b[3]) do redis.call('APPEND', op[1], op[2]) end
for _, op in ipairs(b[4]) do redis.call('XADD', op[1], '*', 'd', op[2]) end
redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[2])
return 1
`;

export const COMMIT_APPLIED = 1;
export const COMMIT_ALREADY_APPLIED = 2;
export const COMMIT_FENCED = -1;
export const COMMIT_PREDECESSOR_MISSING = -3;
export const COMMIT_MOVE_REFUSED = -4;
