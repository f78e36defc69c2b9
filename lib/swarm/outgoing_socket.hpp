// Outgoing TCP connections leave from the session's listen port when they can.
// A port-preserving NAT (Linux masquerade, most home routers) then maps them to
// the very address trackers announce for us, so when two NATed peers dial each
// other at once (a tracker's rendezvous) each SYN matches the mapping the other's
// opened: TCP simultaneous open, a hole punched with no relay. Where the listen
// port cannot be used for a destination (a connection with the same four-tuple
// exists, TIME_WAIT, another address family) the dial falls back to an ephemeral
// port. Included only by swarm sources (Asio).
#pragma once
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <optional>
#include <system_error>

namespace p2p {

// Lets the listener share its port with outgoing sockets (SO_REUSEPORT), after
// checking that no other socket holds the port (SO_REUSEPORT alone would let a
// second process of ours bind it silently): throws std::system_error (EADDRINUSE).
void open_shared_listener(asio::ip::tcp::acceptor& acceptor, const asio::ip::tcp::endpoint& where);

// Connects `socket` to the first endpoint that answers, each try bounded by `timeout`
// (the socket is closed when it runs out: asio::error::timed_out). `local`: the
// listen endpoint to leave from (nullopt: an ephemeral port). Returns the last error.
asio::awaitable<std::error_code> connect_outgoing(asio::ip::tcp::socket& socket,
                                                  const asio::ip::tcp::resolver::results_type& endpoints,
                                                  std::optional<asio::ip::tcp::endpoint> local,
                                                  std::chrono::milliseconds timeout);

}  // namespace p2p
