// The key of a private swarm (p2p-create --private) and what is derived from it:
// the TLS 1.3 external PSK and its identity, and the id announced to trackers.
// Pure functions (HKDF-SHA256, RFC 5869, through OpenSSL); docs/PROTOCOL.md, "Private swarms".
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/sha256.hpp"

namespace p2p {

using SwarmKey = std::array<std::uint8_t, 32>;  // 256 random bits, kept in the meta

// 32 bytes from the operating system's CSPRNG (OpenSSL RAND_bytes); throws on failure.
SwarmKey generate_swarm_key();

// HKDF-SHA256 (RFC 5869) with an empty salt: extract from `key`, expand with `info`.
Digest hkdf_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> salt, std::string_view info);

// Labels: a new protocol version gets new labels, so its keys never collide with these.
inline constexpr std::string_view kPskLabel = "p2p-share v1 psk";
inline constexpr std::string_view kPskIdentityLabel = "p2p-share v1 psk identity";
inline constexpr std::string_view kTrackerIdLabel = "p2p-share v1 tracker swarm id";

// The external PSK: HKDF(key, info = "p2p-share v1 psk" || info hash). Bound to the
// file: the same key with another info hash gives another PSK.
Digest swarm_psk(const SwarmKey& key, const Digest& info_hash);
// The PSK identity sent in clear in the ClientHello: HKDF(key, info = label || info hash).
// Without the key it cannot be linked to a file; it names the swarm to the accepting side.
Digest swarm_psk_identity(const SwarmKey& key, const Digest& info_hash);
// What a private swarm announces to trackers instead of its info hash.
Digest tracker_swarm_id(const SwarmKey& key, const Digest& info_hash);

}  // namespace p2p
