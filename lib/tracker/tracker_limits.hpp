// Every limit the tracker enforces, each with its reason. Anything a client
// sends is checked against these before it is stored or answered.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "base/limits.hpp"
#include "format/tracker_protocol.hpp"

namespace p2p::tracker::limits {

// --- Swarms (memory bounds: anyone may announce any info hash, as with opentracker) ---
// ~150 bytes per peer and ~250 per swarm: the worst case stays under ~300 MiB.
inline constexpr std::size_t kMaxSwarms = 200'000;
inline constexpr std::size_t kMaxPeersPerSwarm = 50'000;
inline constexpr std::size_t kMaxPeersTotal = 1'500'000;
// Peers per announce and the announce interval: the protocol's, shared with the
// client (format/tracker_protocol.hpp). Peers silent for two intervals expire.
using tracker_protocol::kDefaultIntervalSeconds;
using tracker_protocol::kDefaultNumwant;
using tracker_protocol::kMaxIntervalSeconds;
using tracker_protocol::kMaxNumwant;
using tracker_protocol::kMinIntervalSeconds;
inline constexpr int kExpiryIntervals = 2;

// --- Catalog ------------------------------------------------------------------
// A published meta's bytes at most (413 beyond): the protocol's (format/tracker_protocol.hpp).
using tracker_protocol::kMaxPublishBytes;
// Publishing costs the tracker a validation (on its worker threads, never on the
// event loop): per address, at most this many at once and, over time, this many
// bytes of meta checked (a token bucket: a burst of 4 of the largest metas, then
// 1 MiB/s: a seeder publishing a thousand ordinary metas at start never notices,
// a client looping on 8 MiB metas gets one checked every 8 s). Beyond: 429.
inline constexpr std::size_t kMaxPublishChecksPerAddress = 2;
inline constexpr std::uint64_t kPublishBurstBytes = 4 * kMaxPublishBytes;
inline constexpr std::uint64_t kPublishBytesPerSecond = 1 << 20;
// Addresses whose budget is remembered; a full one is forgotten first.
inline constexpr std::size_t kMaxPublishAddresses = 10'000;
// Validation threads (at nice +10: the event loop wins any contention) and the
// publishes waiting for one; beyond: 503. A republished meta whose bytes were
// checked recently is recognised by their SHA-256 and not checked again.
inline constexpr std::size_t kMetaCheckThreads = 1;
inline constexpr std::size_t kMaxMetaChecksQueued = 8;
inline constexpr std::size_t kMetaCheckCacheEntries = 1024;
inline constexpr std::size_t kMaxCatalogFiles = 1'000'000;
// Withdrawn files remembered (so their seeders learn it), newest kept: every
// announce checks an in-memory set of them; 100,000 digests are ~10 MiB.
inline constexpr std::size_t kMaxWithdrawn = 100'000;
// /files answers at most this many rows (sorted by name); ?limit= may lower it.
inline constexpr std::size_t kMaxFilesListed = 1000;
using tracker_protocol::kMaxQueryBytes;  // ?q= and ?name=
// Hashes per scrape request: keeps one request's work and answer bounded.
inline constexpr std::size_t kMaxScrapeHashes = 64;
// Completed-download counters are written to SQLite in one batch this often.
inline constexpr auto kCatalogFlushInterval = std::chrono::seconds(5);

// --- HTTP (the server's own limits are in net/http_limits.hpp) -----------------------
// Bodies are only meaningful for POST /publish; other requests may carry at most this.
inline constexpr std::size_t kMaxOtherBodyBytes = 64 * 1024;

// --- Redis store (--store redis://...) ------------------------------------------------
// Back-off between reconnection attempts: starts small so a Redis restart costs
// well under a second of 503s, capped so a long outage costs little.
inline constexpr auto kRedisReconnectMin = std::chrono::milliseconds(100);
inline constexpr auto kRedisReconnectMax = std::chrono::milliseconds(2000);
// A TCP connect (and the handshake: SELECT, SCRIPT LOAD) must finish within this.
inline constexpr auto kRedisConnectTimeout = std::chrono::milliseconds(2000);
// A command unanswered for this long means Redis is stuck (or the link is):
// the connection is dropped, waiting requests get 503, and we reconnect.
inline constexpr auto kRedisCommandTimeout = std::chrono::milliseconds(3000);
// Commands written but not yet answered; beyond this new requests get 503
// instead of queueing without bound behind a slow Redis.
inline constexpr std::size_t kRedisMaxPending = 50'000;
// What a reply may contain before we stop trusting it, checked inside hiredis's
// reader before it allocates (hiredis 0.14 itself has no reader limits):
// elements in one reply (a /files page: 1,001 files x 6 fields), nesting
// depth, bytes in one string (a stored meta).
inline constexpr std::size_t kRedisMaxReplyElements = 20'000;
inline constexpr std::size_t kRedisMaxReplyDepth = 4;
inline constexpr std::size_t kRedisMaxStringBytes = kMaxPublishBytes + 64 * 1024;
// Stale peers one announce removes from its swarm; the periodic sweep takes the rest.
inline constexpr std::size_t kRedisExpireBatch = 1000;
// Swarms the sweep examines per script call (each call blocks Redis briefly).
inline constexpr std::size_t kRedisSweepSwarmsPerCall = 200;
// Names one /files script call scans before handing back a cursor: bounds how
// long a substring search over a million names blocks Redis at a time.
inline constexpr std::size_t kRedisListScanPerCall = 5000;
// How often each process adds its request counters to the shared totals.
inline constexpr auto kCounterFlushInterval = std::chrono::seconds(1);

// --- Relay (p2p-tracker --relay; docs/TRACKER.md "Relay") -------------------------------
// A ticket names one pair of members of one swarm. 30 s covers the round trip
// that tells both members (an announce interval is not needed: they ask when a
// direct dial has failed) while a leaked ticket is soon worthless.
inline constexpr auto kRelayTicketTtl = std::chrono::seconds(30);
// Outstanding tickets (~200 bytes each: 2 MiB); the oldest is dropped first.
inline constexpr std::size_t kMaxRelayTickets = 10'000;
// A connection must send its hello this soon, or it is refused: a silent
// socket costs a descriptor and nothing else for at most this long.
inline constexpr auto kRelayHelloTimeout = std::chrono::seconds(5);
// The first member of a pair waits this long for the second (both were told
// the ticket in the same answer; 15 s allows for a slow dial and a retry).
inline constexpr auto kRelayPartnerTimeout = std::chrono::seconds(15);
// A relayed pair with no byte in either direction for this long is closed:
// the peer protocol sends a keep-alive after 30 s of quiet and gives up at 120 s.
inline constexpr auto kRelayIdleTimeout = std::chrono::seconds(120);
// Open relay connections beyond the 2 per pair its pair cap allows: a hello
// costs a descriptor for up to 5 s before it shows a ticket, and the HTTP
// server shares the process's descriptors.
inline constexpr std::size_t kMaxRelayConnections = 1024;
// One read, one write, per direction of a pair: 128 KiB per pair, so 64 pairs cost 8 MiB.
inline constexpr std::size_t kRelayBufferBytes = 64 * 1024;
// Defaults of the caps (--relay-rate, --relay-swarm-rate, --relay-max-pairs):
// a relay is the last resort and carries anyone's traffic, so it is capped well
// below a small server's link (100 Mbit/s = 12 MiB/s): 8 MiB/s in total leaves
// the tracker's own HTTP room, 2 MiB/s per swarm lets no one swarm take more
// than a quarter, 64 pairs at 128 KiB of buffers each is 8 MiB of memory.
inline constexpr std::uint64_t kDefaultRelayBytesPerSecond = 8ull << 20;
inline constexpr std::uint64_t kDefaultRelaySwarmBytesPerSecond = 2ull << 20;
inline constexpr std::size_t kDefaultRelayMaxPairs = 64;
// One address may take part in this many pairs at once (waiting or relaying):
// a member needs one per unreachable peer it trades with; a host behind one
// NAT address with several members needs a few.
inline constexpr std::size_t kDefaultRelayMaxPairsPerAddress = 8;
// The default relay port: next to the tracker's HTTP 6969.
inline constexpr std::uint16_t kDefaultRelayPort = 6970;

}  // namespace p2p::tracker::limits
