// The tracker client's announce as a coroutine on the caller's io_context, for
// the session's announcers (no thread per torrent). Pulls in Asio's awaitable:
// include only from .cpp files.
#pragma once
#include <asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "tracker_client/tracker_client.hpp"

namespace p2p::tracker_client {

// As announce(): throws Error(ExitCode::tracker, ...) on any failure or after `timeout`.
asio::awaitable<AnnounceResponse> announce_async(std::string tracker, AnnounceRequest request,
                                                 std::chrono::milliseconds timeout);
// GET /rendezvous: held by the tracker until it has a note for us (or ~20 s); answered at
// once when we do not know our reachability yet and the tracker does.
asio::awaitable<RendezvousAnswer> rendezvous_poll_async(std::string tracker, std::uint16_t port, bool reachability_known,
                                                        std::chrono::milliseconds timeout);
// GET /relay: asks the tracker to bring `to` (a member waiting for rendezvous) to its relay.
asio::awaitable<RelayOffer> request_relay_async(std::string tracker, Digest swarm, std::uint16_t port,
                                                wire::PeerAddress to, std::chrono::milliseconds timeout);

}  // namespace p2p::tracker_client
