// A connection through a tracker's relay (p2p-tracker --relay; docs/PROTOCOL.md
// "Relay"): connect to the relay, send the hello frame with the ticket the tracker
// gave both members, wait for "relay_ready"; from then on the socket carries the
// peer protocol end to end (TLS too, for a private swarm: the relay sees ciphertext
// only). Included only by swarm sources (Asio).
#pragma once
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "format/relay_frames.hpp"

namespace p2p {

using RelayRole = relay::Role;

// Connects `socket` to host:port and runs the hello. Returns "" when the relay paired
// us with the other member, or one line saying why not (refused, timed out, closed).
asio::awaitable<std::string> open_relay_link(asio::ip::tcp::socket& socket, std::string host, std::uint16_t port,
                                             std::string ticket, RelayRole role, std::chrono::milliseconds timeout);

}  // namespace p2p
