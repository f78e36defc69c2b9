// The session's side of a tracker's rendezvous (docs/TRACKER.md, "Across NATs").
// A tracker that takes polls says so in its announce answers; the session then keeps
// one long poll open to it (GET /rendezvous) until the tracker's connect-back probe
// shows we can be dialled from outside. Each note it answers with is routed to the
// torrent it names: "dial this peer now" (it dials us at the same moment: a hole
// punched through both NATs) or "meet it at the relay with this ticket". The first
// probe result is reported in one line: whether, and at which address, this node
// is reachable from outside. Runs on the session's io thread.
#pragma once
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tracker_client/tracker_client.hpp"

namespace p2p {

class RendezvousClient {
 public:
  struct Host;  // what it needs of the session (session.cpp implements it)
  explicit RendezvousClient(Host& host) : host_(host) {}

  // An announce answer from `tracker`: starts polling it if it takes polls and has not
  // found us reachable yet; remembers its relay port.
  void tracker_answered(const std::string& tracker, const tracker_client::AnnounceResponse& answer);
  // The tracker's relay port, 0 when it relays nothing.
  std::uint16_t relay_port(const std::string& tracker) const;
  // One line per tracker that probed us: "reachable from outside at A (tracker T connected back)" or why not.
  std::vector<std::string> reachability() const;

 private:
  struct TrackerState {
    bool polling = false;
    std::uint16_t relay_port = 0;
    std::optional<bool> reachable;
    std::string line;  // what reachability() shows for it
  };
  asio::awaitable<void> poll(std::string tracker);
  void note_reachability(const std::string& tracker, const tracker_client::RendezvousAnswer& answer);

  Host& host_;
  std::map<std::string, TrackerState> trackers_;
};

// The session seen from the rendezvous client.
struct RendezvousClient::Host {
  virtual ~Host() = default;
  virtual asio::io_context& rendezvous_io() = 0;
  virtual bool rendezvous_stopping() const = 0;
  // True while outsiders can dial us anyway (a port mapping on our gateway): no polls then.
  virtual bool rendezvous_unneeded() const = 0;
  virtual std::uint16_t rendezvous_port() const = 0;  // the port we announce (listen or mapped)
  virtual void rendezvous_report(const std::string& line) = 0;
  // Routes one note to the torrent with that public id (ignored if none).
  virtual void rendezvous_note(const std::string& tracker, const tracker_client::RendezvousNote& note) = 0;
};

}  // namespace p2p
