// Which connection a newcomer displaces when the process is at its connection
// or descriptor cap. Pure: the session lists its connections, this picks one.
//
// Connections that sit there without moving payload (a handshake and then silence,
// or not even a handshake) must not lock real peers out: at the cap a newcomer takes
// the place of the connection that has gone longest without exchanging a block, the
// way libtorrent disconnects its least useful peers when it needs slots.
//
//  * A connection that sent or received a block within kPayloadProtection is never
//    displaced: an attacker cannot push out peers that are transferring.
//  * Connections that never moved a block go first, then those whose last block is
//    older than kPayloadProtection; within each, those from the address holding the
//    most connections first (30 addresses holding the cap give way before a lone
//    peer), then the longest idle (since it opened, or its last block).
//  * A newcomer is the youngest connection, so an attacker must open a whole cap's
//    worth of connections before its first block moves to push it out again.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace p2p {

class IdleEviction {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kPayloadProtection = std::chrono::seconds(60);

  struct Candidate {
    std::uint64_t id = 0;
    Clock::time_point idle_since;  // its last block in or out; when it opened if none
    bool moved_payload = false;    // has it ever sent or received a block
    std::size_t from_address = 1;  // connections open from its IP, itself included
  };

  // The connection to close for a newcomer, or nullopt if every one is protected.
  static std::optional<std::uint64_t> pick(const std::vector<Candidate>& connections, Clock::time_point now);
};

}  // namespace p2p
