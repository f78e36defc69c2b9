// Every limit the tracker enforces, each with its reason. Anything a client
// sends is checked against these before it is stored or answered.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace p2p::tracker::limits {

// --- Swarms (memory bounds: anyone may announce any info hash, as with opentracker) ---
// ~150 bytes per peer and ~250 per swarm: the worst case stays under ~300 MiB.
inline constexpr std::size_t kMaxSwarms = 200'000;
inline constexpr std::size_t kMaxPeersPerSwarm = 50'000;
inline constexpr std::size_t kMaxPeersTotal = 1'500'000;
// Peers handed out per announce: BitTorrent's customary default and a cap that
// keeps an answer under ~8 KiB.
inline constexpr int kDefaultNumwant = 50;
inline constexpr int kMaxNumwant = 200;
// Announce interval bounds (--interval); peers silent for two intervals expire.
inline constexpr int kDefaultIntervalSeconds = 60;
inline constexpr int kMinIntervalSeconds = 1;
inline constexpr int kMaxIntervalSeconds = 24 * 3600;
inline constexpr int kExpiryIntervals = 2;

// --- Catalog ------------------------------------------------------------------
// A published meta: 8 MiB of JSON is ~120,000 pieces (2 TB at 16 MiB pieces);
// bigger bodies are refused with 413 before they are read.
inline constexpr std::size_t kMaxPublishBytes = 8 * 1024 * 1024;
inline constexpr std::size_t kMaxCatalogFiles = 1'000'000;
// /files answers at most this many rows (sorted by name); ?limit= may lower it.
inline constexpr std::size_t kMaxFilesListed = 1000;
inline constexpr std::size_t kMaxQueryBytes = 255;  // ?q= and ?name= (a file name is <= 255 bytes)
// Hashes per scrape request: keeps one request's work and answer bounded.
inline constexpr std::size_t kMaxScrapeHashes = 64;
// Completed-download counters are written to SQLite in one batch this often.
inline constexpr auto kCatalogFlushInterval = std::chrono::seconds(5);

// --- HTTP -----------------------------------------------------------------------
// Request line plus headers; beyond this the answer is 431 (nginx uses 8 KiB too).
inline constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
// 414 beyond this; fits a scrape of kMaxScrapeHashes (64 x 75 bytes) with room to spare.
inline constexpr std::size_t kMaxUrlBytes = 6 * 1024;
// Bodies are only meaningful for POST /publish.
inline constexpr std::size_t kMaxBodyBytes = kMaxPublishBytes;
// A client must finish its request headers this soon after connecting or after
// its previous answer, or it gets 408 and is closed (slowloris defence).
inline constexpr auto kDefaultHeaderTimeout = std::chrono::seconds(10);
// An idle keep-alive connection (no byte of a new request) is closed after this.
inline constexpr auto kDefaultIdleTimeout = std::chrono::seconds(30);
// A request body must arrive within this (8 MiB at >= ~300 KiB/s).
inline constexpr auto kBodyTimeout = std::chrono::seconds(30);
// Open connections; further ones are answered 503 and closed. Also bounded by
// RLIMIT_NOFILE at start-up.
inline constexpr std::size_t kMaxConnections = 10'000;
inline constexpr std::size_t kReservedFds = 64;  // SQLite, logs, the listener

// --- Client -------------------------------------------------------------------------
// A tracker answer is JSON: a meta (publish limit) plus headers.
inline constexpr std::size_t kMaxClientResponseBytes = kMaxPublishBytes + 64 * 1024;

}  // namespace p2p::tracker::limits
