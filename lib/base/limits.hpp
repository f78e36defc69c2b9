// Every limit p2p-share enforces, in one place, each with its reason.
// Anything read from a peer, a tracker or a file is checked against these before use.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace p2p::limits {

// --- Metadata -------------------------------------------------------------
// Automatic piece size: a power of two in [64 KiB, 4 MiB] giving ~500-1,000 pieces. Each
// piece costs a request, a hash job and a `have` to every peer that lacks it; with 32
// peers on two cores, 16 KiB pieces of a 32 MiB file made a swarm CPU-bound (40 CPU-s,
// 3.1 x the minimum distribution time), 64 KiB took 17 CPU-s and 1.6 x, and 128 KiB
// lengthened the tail (2.4 x): a piece must arrive whole before it is passed on.
// Measured with bench/netns_swarm_bench.sh; docs/DESIGN.md, "Swarm defaults".
inline constexpr std::uint64_t kMinPieceSize = 16 * 1024;
inline constexpr std::uint64_t kMaxPieceSize = 16 * 1024 * 1024;
inline constexpr std::uint64_t kTargetMaxPieces = 1000;
// Automatic pieces are never smaller than this (a 100 MiB loopback download took 0.28 s
// with 32 KiB pieces, 0.15 s with 256 KiB: every piece costs a frame, a hash job and a
// write) and never larger than this (a piece is held in memory while it arrives and is
// hashed, kMaxPiecesInFlightBytes; files above 4 GiB get more than 1,000 pieces).
inline constexpr std::uint64_t kMinAutoPieceSize = 64 * 1024;
inline constexpr std::uint64_t kMaxAutoPieceSize = 4 * 1024 * 1024;
// 2^20 pieces (16 TiB at 16 MiB pieces) keeps a bitfield at 128 KiB and a meta
// file under ~70 MiB of hex.
inline constexpr std::uint64_t kMaxPieces = std::uint64_t{1} << 20;
// A tree meta (format 3) also lists its files and empty folders: at most
// kMaxTreeEntries of them (a million-file dataset must fit; one entry costs a
// JSON object of ~40 bytes plus its path).
inline constexpr std::uint64_t kMaxTreeEntries = std::uint64_t{1} << 20;
// What reading a tree meta and laying the tree out costs grows with these, not with
// its bytes alone, so each has a bound of its own (a meta over any is refused while it
// is read, naming the bound):
// - the bytes of all its paths, files and empty folders together: kept in memory
//   (64 bytes a path on average at kMaxTreeEntries; a million-file dataset such as
//   ImageNet's train set averages ~37);
inline constexpr std::uint64_t kMaxTreePathBytes = std::uint64_t{64} << 20;
// - the components of all its paths together (depth x entries): every one is a
//   folder walked (openat) when a file moves into the tree (8 on average at
//   kMaxTreeEntries; a tree of 131,072 entries may be 64 deep throughout);
inline constexpr std::uint64_t kMaxTreePathComponents = std::uint64_t{1} << 23;
// - the folders it makes the downloader create (those holding its files, its empty
//   folders and those holding them): one mkdir each, ~1-2 s for all of them here
//   (4 files a folder on average at kMaxTreeEntries). Created when the tree is
//   finished, never before a piece has arrived.
inline constexpr std::uint64_t kMaxTreeFolders = std::uint64_t{1} << 18;
// A path inside a tree: PATH_MAX on Linux, and at most this many components
// (bounds the folder walk per file and the prefix checks at parse).
inline constexpr std::size_t kMaxPathBytes = 4096;
inline constexpr std::size_t kMaxPathDepth = 64;
// A meta file larger than this cannot be valid: every piece as written (`  "<64 hex>",`
// on a line: 70 bytes, 72 with slack), every tree entry's JSON around its path (at most
// ~75 bytes with "exec"), every path byte twice (a '"' in a name is written \"), and
// 1 MiB for the rest. It is refused by its size before a byte is read; a meta is read
// from its file in chunks, never whole.
inline constexpr std::uint64_t kMaxMetaFileBytes =
    kMaxPieces * 72 + kMaxTreeEntries * 80 + 2 * kMaxTreePathBytes + (std::uint64_t{1} << 20);
// A meta as published to a tracker and fetched from one (--name, --id): the tracker
// refuses a bigger upload (413), keeps the bytes as they came and serves them back,
// and the downloader refuses a bigger answer. ~120,000 pieces, or a tree of ~60,000
// files in this much JSON.
inline constexpr std::uint64_t kMaxPublishedMetaBytes = std::uint64_t{8} << 20;
// One JSON token (a string as written, escapes included, or a number) in a meta: the
// longest a valid meta has is a path of kMaxPathBytes written with \u escapes (6 bytes
// a byte). Checked on the bytes before the JSON lexer buffers a token, so a hostile
// string of hundreds of MiB costs nothing.
inline constexpr std::uint64_t kMaxMetaTokenBytes = 6 * kMaxPathBytes + 64;
// JSON values a meta may contain (its pieces plus a few fields): counted while
// parsing, so hostile input (say, millions of tiny values in a field no meta has)
// costs at most a bounded number of values on top of its own bytes.
// A tree entry is an object of at most 3 values ({"path","size","exec"}): 4 values.
inline constexpr std::uint64_t kMaxMetaJsonValues = kMaxPieces + 4 * kMaxTreeEntries + 64;
inline constexpr int kMaxMetaJsonDepth = 3;  // containers inside each other: the meta, its lists, a list entry
inline constexpr std::size_t kMaxNameBytes = 255;  // one path component on ext4
inline constexpr std::size_t kMaxTrackers = 16;

// --- Wire -----------------------------------------------------------------
// JSON headers are small; the biggest is a peer-exchange list of 50+50 entries.
inline constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;
// Blocks are requested in this size; a peer may not ask for more in one request.
inline constexpr std::uint32_t kBlockSize = 256 * 1024;
inline constexpr std::uint32_t kMaxBlockSize = 1024 * 1024;
// The largest payload is a block or a bitfield of kMaxPieces bits.
inline constexpr std::uint32_t kMaxPayloadBytes =
    kMaxBlockSize > kMaxPieces / 8 ? kMaxBlockSize : static_cast<std::uint32_t>(kMaxPieces / 8);
// Requests a peer may have queued with us; more is a protocol violation (flood). Said in
// the handshake (`max_requests`), so a requester keeps its window below it. A queued
// request costs a few dozen bytes (its block is read only when its turn comes), and a
// window is what one round trip of the link holds: 40 MiB/s over 200 ms is 8 MiB, 128
// blocks of a 64 KiB-piece file; 2,048 leaves room for 1 GB/s at 100 ms with 64 KiB blocks.
inline constexpr std::size_t kMaxQueuedRequestsPerPeer = 2048;
// What a handshake without `max_requests` allows (peers before the field existed).
inline constexpr std::size_t kLegacyMaxQueuedRequests = 256;
inline constexpr std::size_t kMaxPexPeersPerMessage = 50;
// Piece indexes in one `haves` frame: 1,024 of up to 10 digits fit the header limit.
inline constexpr std::size_t kMaxHavesPerFrame = 1024;

// --- Connections ------------------------------------------------------------
inline constexpr std::size_t kMaxConnectionsPerProcess = 512;
inline constexpr std::size_t kMaxConnectionsPerAddress = 32;
inline constexpr int kMaxParallel = 32;
inline constexpr auto kConnectTimeout = std::chrono::seconds(5);
inline constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
// A peer holding our requests without sending a byte for this long is stalled.
inline constexpr auto kRequestTimeout = std::chrono::seconds(10);
// Send a keep-alive when we have been quiet this long; drop peers silent for kIdleTimeout.
inline constexpr auto kKeepAliveInterval = std::chrono::seconds(30);
inline constexpr auto kIdleTimeout = std::chrono::seconds(120);
// With no peer reachable, a download keeps retrying (back-off capped at 30 s, see
// PeerDirectory) this long before giving up: a seeder restart or a short network
// outage must not end a long download. --give-up-after changes it.
inline constexpr auto kDefaultGiveUpAfter = std::chrono::minutes(10);
// New outgoing connections a torrent may start per 250 ms tick (peer exchange
// cannot make us dial hundreds of addresses per second). 32, not 8: 32 peers that
// learn each other by gossip all at once met over a second instead of a tick.
inline constexpr std::size_t kMaxDialsPerTick = 32;

// --- Storage ----------------------------------------------------------------
// Verified pieces are recorded at least this often (and always at exit).
inline constexpr auto kStateSaveInterval = std::chrono::seconds(2);
inline constexpr std::uint64_t kMaxStateFileBytes = 64ull * 1024 * 1024;
// Pieces held in memory while their blocks arrive and while they are hashed, for the
// whole session: bounds the downloader's memory whatever the file size. The budget is
// kMaxPiecesInFlightBytes, or 1.5x the bandwidth-delay product its connections measure
// where that is more (rate x round trip: what must be in flight to keep a long link busy),
// plus pieces waiting for the disk on a long link, and the ceiling while a long link starts
// up, at most kMaxPieceBufferCeiling (swarm/policy/piece_buffer_budget.hpp). A request only
// reserves its piece's slot: memory is taken when the first block arrives. On loopback and
// LANs the product is tiny and the budget stays at 8 MiB (peak RSS ~20 MiB for one file);
// 40 MiB/s over 200 ms makes it 12 MiB; the ceiling allows ~0.8 GB/s at 100 ms.
inline constexpr std::size_t kMaxPiecesInFlightBytes = 8ull * 1024 * 1024;
inline constexpr std::size_t kMaxPieceBufferCeiling = 128ull * 1024 * 1024;
// Files of a tree held open at once by one torrent (an LRU): a 20,000-file tree
// must not take 20,000 descriptors of the process's budget (base/fd_limit).
inline constexpr std::size_t kMaxOpenTreeFiles = 64;

}  // namespace p2p::limits
