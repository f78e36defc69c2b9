-- wrk script: BitTorrent HTTP announces (BEP 3, compact) over SWARMS random
-- 20-byte info hashes and PEERS random peer ids per swarm, the same requests for
-- every tracker. Env: BT_HASHES (file) or BT_SWARMS (1000), BT_PEERS (20), BT_CLOSE (1 = Connection: close).
local swarms = tonumber(os.getenv("BT_SWARMS") or "1000")
local peers = tonumber(os.getenv("BT_PEERS") or "20")
local close = os.getenv("BT_CLOSE") == "1"
local hashes, ids = {}, {}

local function pct(n, seed)
  math.randomseed(seed)
  local t = {}
  for i = 1, n do t[i] = string.format("%%%02X", math.random(0, 255)) end
  return table.concat(t)
end

function init(args)
  -- BT_HASHES: a file of percent-encoded info hashes, one a line (the whitelist's hashes).
  local file = os.getenv("BT_HASHES")
  if file then
    for line in io.lines(file) do hashes[#hashes + 1] = line end
    swarms = #hashes
  else
    for s = 1, swarms do hashes[s] = pct(20, s) end
  end
  for p = 1, peers do ids[p] = pct(12, 100000 + p) end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  if close then wrk.headers["Connection"] = "close" end
end

function request()
  local s = math.random(1, swarms)
  local p = math.random(1, peers)
  local path = "/announce?info_hash=" .. hashes[s] .. "&peer_id=-BN0001-" .. ids[p] ..
      "&port=" .. (6881 + p) .. "&uploaded=0&downloaded=0&left=" .. (p % 2) * 1000 ..
      "&compact=1&numwant=50&key=abcd"
  return wrk.format("GET", path)
end
