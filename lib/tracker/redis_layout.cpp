// Redis key names and the Lua scripts over them. Times (ms since the epoch)
// come from the calling tracker's clock, as in the announce fast path, which
// refreshes a peer with a plain ZADD. Redis 7's script effects replication
// lets scripts call SSCAN and HRANDFIELD before writing.
#include "tracker/redis_layout.hpp"

namespace p2p::tracker::redis_layout {

namespace {
std::string key(std::string_view kind, std::string_view ih) {
  std::string k(kPrefix);
  k.append(kind).append(ih);
  return k;
}
}  // namespace

std::string swarm_key(std::string_view ih) { return std::string(kSwarmPrefix).append(ih); }
std::string peers_key(std::string_view ih) { return std::string(kPeersPrefix).append(ih); }
std::string swarm_stat_key(std::string_view ih) { return std::string(kSwarmStatPrefix).append(ih); }
std::string catalog_key(std::string_view ih) { return key("catalog:", ih); }
std::string names_key() { return std::string(kPrefix) + "names"; }
std::string withdrawn_key() { return std::string(kPrefix) + "withdrawn"; }
std::string swarms_key() { return std::string(kPrefix) + "swarms"; }
std::string stats_key() { return std::string(kPrefix) + "stats"; }
std::string counters_key() { return std::string(kPrefix) + "counters"; }
std::string sweep_lock_key() { return std::string(kPrefix) + "lock:sweep"; }

namespace {

// Shared by announce and sweep.
constexpr std::string_view kSwarmFunctions = R"lua(
local P = ARGV[1]
-- A peer record starts with a flags digit: 1 = seeder, 2 = its "completed" was counted.
local function flags(v) return tonumber(string.sub(v, 1, 1)) or 0 end
local function is_seeder(v) return flags(v) % 2 == 1 end
local function drop_swarm(ih)
  redis.call('DEL', P .. 'swarm:' .. ih, P .. 'peers:' .. ih, P .. 'swarmstat:' .. ih)
  redis.call('SREM', P .. 'swarms', ih)
end
)lua";

// Expiry, in one place; counted where it happens.
constexpr std::string_view kExpireFunction = R"lua(
-- Removes up to `batch` peers of the swarm last seen before `cutoff` (ms) and
-- counts them; atomic, so a peer is expired once whichever tracker gets here.
local function expire_swarm(ih, cutoff, batch)
  local zkey, hkey = P .. 'swarm:' .. ih, P .. 'peers:' .. ih
  local old = redis.call('ZRANGEBYSCORE', zkey, '-inf', '(' .. string.format('%d', cutoff), 'LIMIT', 0, batch)
  if #old == 0 then return 0 end
  local vals = redis.call('HMGET', hkey, unpack(old))
  local seeders = 0
  for i = 1, #old do
    if vals[i] and is_seeder(vals[i]) then seeders = seeders + 1 end
  end
  redis.call('ZREM', zkey, unpack(old))
  redis.call('HDEL', hkey, unpack(old))
  redis.call('HINCRBY', P .. 'swarmstat:' .. ih, 'peers', -#old)
  redis.call('HINCRBY', P .. 'stats', 'peers', -#old)
  redis.call('HINCRBY', P .. 'stats', 'expired_peers', #old)
  if seeders > 0 then
    redis.call('HINCRBY', P .. 'swarmstat:' .. ih, 'seeders', -seeders)
    redis.call('HINCRBY', P .. 'stats', 'seeders', -seeders)
  end
  if redis.call('ZCARD', zkey) == 0 then drop_swarm(ih) end
  return #old
end
)lua";

// The same rules as SwarmRegistry::announce (swarm_registry.cpp). No expiry
// here, as in the embedded store: the sweep drops silent peers every half
// interval. The store runs this script for what the fast path (plain
// commands, redis_swarm_store.cpp) cannot: new peers, changed records, events.
constexpr std::string_view kAnnounceLua = R"lua(
local ih, pid, val, event = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local numwant, now = tonumber(ARGV[6]), ARGV[7]
local max_swarms, max_per_swarm, max_total = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local zkey, hkey, skey, stats = P .. 'swarm:' .. ih, P .. 'peers:' .. ih, P .. 'swarmstat:' .. ih, P .. 'stats'
local function counts()
  local n = redis.call('HLEN', hkey)
  local s = tonumber(redis.call('HGET', skey, 'seeders') or '0') or 0
  return n, math.max(0, math.min(s, n))
end
local old = redis.call('HGET', hkey, pid)
if event == 'stopped' then
  if old then
    redis.call('ZREM', zkey, pid)
    redis.call('HDEL', hkey, pid)
    redis.call('HINCRBY', skey, 'peers', -1)
    redis.call('HINCRBY', stats, 'peers', -1)
    if is_seeder(old) then
      redis.call('HINCRBY', skey, 'seeders', -1)
      redis.call('HINCRBY', stats, 'seeders', -1)
    end
  end
  local n, s = counts()
  if n == 0 then drop_swarm(ih) end
  return {0, s, n - s, 0}
end
local seeder = is_seeder(val)
local completed_now = 0
local done = false
if not old then
  local n = redis.call('HLEN', hkey)
  if n == 0 and redis.call('SCARD', P .. 'swarms') >= max_swarms then return {1, 0, 0, 0} end
  if n >= max_per_swarm then return {2, 0, 0, 0} end
  if tonumber(redis.call('HGET', stats, 'peers') or '0') >= max_total then return {3, 0, 0, 0} end
  if n == 0 then redis.call('SADD', P .. 'swarms', ih) end
  redis.call('HINCRBY', skey, 'peers', 1)
  redis.call('HINCRBY', stats, 'peers', 1)
  if seeder then
    redis.call('HINCRBY', skey, 'seeders', 1)
    redis.call('HINCRBY', stats, 'seeders', 1)
  end
  -- A peer first seen with "completed" still finished a download.
  if event == 'completed' then completed_now, done = 1, true end
else
  local was = is_seeder(old)
  done = flags(old) >= 2
  -- Once per peer: a client announcing to several trackers of this Redis sends it to each.
  if event == 'completed' and not was and not done then completed_now, done = 1, true end
  if was ~= seeder then
    local d = seeder and 1 or -1
    redis.call('HINCRBY', skey, 'seeders', d)
    redis.call('HINCRBY', stats, 'seeders', d)
  end
end
local record = ((seeder and 1 or 0) + (done and 2 or 0)) .. string.sub(val, 2)
if record ~= old then redis.call('HSET', hkey, pid, record) end
if completed_now == 1 then redis.call('HINCRBY', skey, 'completed', 1) end
redis.call('ZADD', zkey, now, pid)
local n, s = counts()
local out = {0, s, n - s, completed_now}
if numwant > 0 and n > 1 then
  -- Distinct random fields; one more than wanted in case the asker is drawn.
  local r = redis.call('HRANDFIELD', hkey, math.min(numwant + 1, n), 'WITHVALUES')
  local taken = 0
  for i = 1, #r, 2 do
    if r[i] ~= pid and taken < numwant then
      out[#out + 1] = r[i + 1]
      taken = taken + 1
    end
  end
end
return out
)lua";

// Walks the swarm set with SSCAN, a slice per call, dropping peers silent
// since the cutoff (and swarms left empty). One tracker runs it per period.
constexpr std::string_view kSweepLua = R"lua(
local cutoff = tonumber(ARGV[4])
local r = redis.call('SSCAN', P .. 'swarms', ARGV[2], 'COUNT', tonumber(ARGV[3]))
local dropped = 0
for _, ih in ipairs(r[2]) do
  dropped = dropped + expire_swarm(ih, cutoff, tonumber(ARGV[5]))
  if redis.call('HLEN', P .. 'peers:' .. ih) == 0 then drop_swarm(ih) end
end
return {r[1], dropped}
)lua";

constexpr std::string_view kPublishLua = R"lua(
local P, ih = ARGV[1], ARGV[2]
local key = P .. 'catalog:' .. ih
if redis.call('EXISTS', key) == 1 then
  local r = redis.call('HMGET', key, 'name', 'size', 'piece_size', 'published', 'completed')
  return {0, r[1], r[2], r[3], r[4], r[5]}
end
if redis.call('ZCARD', P .. 'names') >= tonumber(ARGV[9]) then return {2} end
redis.call('HSET', key, 'name', ARGV[3], 'size', ARGV[4], 'piece_size', ARGV[5], 'published', ARGV[6],
           'completed', '0', 'meta', ARGV[7], 'owner', ARGV[8])
redis.call('ZADD', P .. 'names', 0, ARGV[3] .. '\0' .. ih)
return {1, ARGV[3], ARGV[4], ARGV[5], ARGV[6], '0'}
)lua";

// Every file of that name sorts between "name\0" and "name\1"; the newest wins.
constexpr std::string_view kFindByNameLua = R"lua(
local P, name = ARGV[1], ARGV[2]
local members = redis.call('ZRANGEBYLEX', P .. 'names', '[' .. name .. '\0', '(' .. name .. '\1', 'LIMIT', 0, 1000)
local best, best_published = nil, nil
for _, m in ipairs(members) do
  local ih = string.sub(m, #name + 2)
  local published = tonumber(redis.call('HGET', P .. 'catalog:' .. ih, 'published') or '')
  if published and (best == nil or published >= best_published) then best, best_published = ih, published end
end
if not best then return {} end
local r = redis.call('HMGET', P .. 'catalog:' .. best, 'name', 'size', 'piece_size', 'published', 'completed')
return {best, r[1], r[2], r[3], r[4], r[5]}
)lua";

// One bounded slice of the name index: at most ARGV[5] names are looked at, so
// a substring search over a huge catalog never blocks Redis for long; the
// caller continues from the returned cursor.
constexpr std::string_view kListFilesLua = R"lua(
local P, q, min = ARGV[1], ARGV[2], ARGV[3]
local want, budget = tonumber(ARGV[4]), tonumber(ARGV[5])
local out = {''}
local scanned, found = 0, 0
while scanned < budget do
  local chunk = redis.call('ZRANGEBYLEX', P .. 'names', min, '+', 'LIMIT', 0, math.min(500, budget - scanned))
  if #chunk == 0 then return out end
  for _, m in ipairs(chunk) do
    scanned = scanned + 1
    min = '(' .. m
    local sep = string.find(m, '\0', 1, true)
    if sep then
      local name = string.sub(m, 1, sep - 1)
      if q == '' or string.find(name, q, 1, true) then
        local ih = string.sub(m, sep + 1)
        local r = redis.call('HMGET', P .. 'catalog:' .. ih, 'size', 'piece_size', 'published', 'completed')
        if r[1] then
          out[#out + 1] = ih
          out[#out + 1] = name
          out[#out + 1] = r[1]
          out[#out + 1] = r[2]
          out[#out + 1] = r[3]
          out[#out + 1] = r[4]
          found = found + 1
          if found >= want then
            out[1] = min
            return out
          end
        end
      end
    end
  end
end
out[1] = min
return out
)lua";

// Compares SHA-256 hashes of tokens, so a timing difference says nothing usable about the token.
constexpr std::string_view kWithdrawLua = R"lua(
local P, ih = ARGV[1], ARGV[2]
local key = P .. 'catalog:' .. ih
local r = redis.call('HMGET', key, 'owner', 'name')
if not r[2] then return 0 end
if not r[1] or r[1] == '' then return 2 end
if r[1] ~= ARGV[3] then return 3 end
redis.call('DEL', key)
redis.call('ZREM', P .. 'names', r[2] .. '\0' .. ih)
return 1
)lua";

// Only published files count; a plain HINCRBY would recreate a withdrawn record.
constexpr std::string_view kNoteCompletedLua = R"lua(
local key = ARGV[1] .. 'catalog:' .. ARGV[2]
if redis.call('EXISTS', key) == 0 then return -1 end
return redis.call('HINCRBY', key, 'completed', 1)
)lua";

}  // namespace

std::vector<std::string> scripts() {
  std::vector<std::string> s(kScriptCount);
  s[kAnnounce] = std::string(kSwarmFunctions) + std::string(kAnnounceLua);
  s[kSweep] = std::string(kSwarmFunctions) + std::string(kExpireFunction) + std::string(kSweepLua);
  s[kPublish] = kPublishLua;
  s[kFindByName] = kFindByNameLua;
  s[kListFiles] = kListFilesLua;
  s[kWithdraw] = kWithdrawLua;
  s[kNoteCompleted] = kNoteCompletedLua;
  return s;
}

}  // namespace p2p::tracker::redis_layout
