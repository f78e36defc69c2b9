// The tracker protocol's shared limits (docs/TRACKER.md): what p2p-tracker enforces and
// what its client (tracker_client/tracker_client) checks the answers against. One definition for
// both sides, in format/ (the protocol, not either end); the tracker's own limits
// (memory, queues, Redis, relay) stay in tracker/tracker_limits.hpp.
#pragma once
#include <cstddef>
#include <cstdint>

#include "base/limits.hpp"

namespace p2p::tracker_protocol {

// Peers handed out per announce: BitTorrent's customary default and a cap that
// keeps an answer under ~8 KiB.
inline constexpr int kDefaultNumwant = 50;
inline constexpr int kMaxNumwant = 200;
// Announce interval bounds (p2p-tracker --interval); an answer outside them is malformed.
inline constexpr int kDefaultIntervalSeconds = 60;
inline constexpr int kMinIntervalSeconds = 1;
inline constexpr int kMaxIntervalSeconds = 24 * 3600;
// A published meta: 8 MiB of JSON is ~120,000 pieces (2 TB at 16 MiB pieces);
// bigger bodies are refused with 413 before they are read. The one constant of
// base/limits.hpp that a downloader also fetches metas with (--name, --id): the
// tracker serves the bytes as published, so it never serves one it would refuse.
inline constexpr std::size_t kMaxPublishBytes = p2p::limits::kMaxPublishedMetaBytes;
// ?q= and ?name= (a file name is <= 255 bytes).
inline constexpr std::size_t kMaxQueryBytes = 255;
// A tracker answer is JSON: a meta (publish limit) plus headers.
inline constexpr std::size_t kMaxClientResponseBytes = kMaxPublishBytes + 64 * 1024;

}  // namespace p2p::tracker_protocol
