/**
 * The group-commit script: one atomic call per worker batch (DESIGN.md
 * section 1, "write-ahead, group commit").
 *
 * KEYS: every key the batch touches, each named once; ops refer to them by
 *       1-based index.
 * ARGV[1]: the fencing epoch the caller holds for every shard it touches.
 * ARGV[2]: the commit guard's time to live, ms.
 * ARGV[3..]: ops, each an opcode followed by its operands:
 *   G k           commit guard key k: if it exists the batch was applied already -> return 2
 *   E k           shard epoch key k must equal ARGV[1]               -> else return -1
 *   V k ver       account hash k must be at version `ver` (0 = absent) -> else return -2
 *   A k ver data  account hash k := {v = ver, d = data}
 *   H k f data    HSET k f data (a transaction record)
 *   D k f         HDEL k f
 *   Z k score m   ZADD k score m (an open hold)
 *   R k m         ZREM k m
 *   X k data      XADD k * d data (a journal entry)
 *
 * All checks (G, E, V) run before the first write, so a refused batch writes
 * nothing; Redis runs the script atomically and, with appendfsync always,
 * the reply comes after the AOF fsync. Returns 1 when applied.
 *
 * The allow-cross-slot-keys flag lets one call span shards on one node; under
 * Redis Cluster a batch is split per node (scale-out issue).
 */
export const COMMIT_SCRIPT = `#!lua flags=allow-cross-slot-keys
local epoch = ARGV[1]
local guardTtl = ARGV[2]
local n = #ARGV
local i = 3
local guard = nil
while i <= n do
  local op = ARGV[i]
  if op == 'G' then
    guard = KEYS[tonumber(ARGV[i + 1])]
    if redis.call('EXISTS', guard) == 1 then return 2 end
    i = i + 2
  elseif op == 'E' then
    if redis.call('GET', KEYS[tonumber(ARGV[i + 1])]) ~= epoch then return -1 end
    i = i + 2
  elseif op == 'V' then
    local v = redis.call('HGET', KEYS[tonumber(ARGV[i + 1])], 'v')
    if (v or '0') ~= ARGV[i + 2] then return -2 end
    i = i + 3
  elseif op == 'A' then i = i + 4
  elseif op == 'H' then i = i + 4
  elseif op == 'D' then i = i + 3
  elseif op == 'Z' then i = i + 4
  elseif op == 'R' then i = i + 3
  elseif op == 'X' then i = i + 3
  else return redis.error_reply('commit: unknown op ' .. tostring(op)) end
end
i = 3
while i <= n do
  local op = ARGV[i]
  if op == 'G' or op == 'E' then i = i + 2
  elseif op == 'V' then i = i + 3
  elseif op == 'A' then
    redis.call('HSET', KEYS[tonumber(ARGV[i + 1])], 'v', ARGV[i + 2], 'd', ARGV[i + 3])
    i = i + 4
  elseif op == 'H' then
    redis.call('HSET', KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2], ARGV[i + 3])
    i = i + 4
  elseif op == 'D' then
    redis.call('HDEL', KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2])
    i = i + 3
  elseif op == 'Z' then
    redis.call('ZADD', KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2], ARGV[i + 3])
    i = i + 4
  elseif op == 'R' then
    redis.call('ZREM', KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2])
    i = i + 3
  elseif op == 'X' then
    redis.call('XADD', KEYS[tonumber(ARGV[i + 1])], '*', 'd', ARGV[i + 2])
    i = i + 3
  end
end
if guard then redis.call('SET', guard, '1', 'PX', guardTtl) end
return 1
`;

export const COMMIT_APPLIED = 1;
export const COMMIT_ALREADY_APPLIED = 2;
export const COMMIT_FENCED = -1;
export const COMMIT_VERSION_CONFLICT = -2;
