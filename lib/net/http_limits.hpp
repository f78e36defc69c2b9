// Limits of the HTTP/1.1 server, each with its reason. What a handler accepts
// beyond them (body sizes per target, its own parameters) is the handler's choice.
#pragma once
#include <chrono>
#include <cstddef>

namespace p2p::net::limits {

// Request line plus headers; beyond this the answer is 431 (nginx uses 8 KiB too).
inline constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
// 414 beyond this; fits a tracker scrape of 64 info hashes (64 x 75 bytes) with room to spare.
inline constexpr std::size_t kMaxUrlBytes = 6 * 1024;
// Header fields kept per request; 8 KiB of headers cannot hold many more useful ones.
inline constexpr std::size_t kMaxHeaderFields = 64;
// Body size accepted when the handler does not say otherwise.
inline constexpr std::size_t kDefaultMaxBodyBytes = 64 * 1024;
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
// Descriptors kept back from the connection budget: databases, logs, the
// listener, a store connection.
inline constexpr std::size_t kReservedFds = 64;
// Request bodies held in memory at once, over all connections: 40 clients each
// sending an 8 MiB publish once pinned 350 MiB. Beyond it new bodies get 503.
inline constexpr std::size_t kMaxBodyBytesInFlight = 64ull * 1024 * 1024;
// A body above kLargeBodyBytes is a "large upload"; one address may have at most
// this many at once (the rest get 503 before a byte of their body is read).
inline constexpr std::size_t kLargeBodyBytes = 64 * 1024;
inline constexpr std::size_t kMaxLargeUploadsPerAddress = 2;
// Read buffer per connection: 10,000 idle keep-alive connections cost 40 MiB.
inline constexpr std::size_t kReadBufferBytes = 4 * 1024;

}  // namespace p2p::net::limits
