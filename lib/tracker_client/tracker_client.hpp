// Blocking tracker client for the seeder and downloader: announce, fetch a
// published meta, look a file up by name, publish a meta. Each call is one
// HTTP/1.1 request with an overall deadline; every answer is validated.
// All failures throw Error(ExitCode::tracker, "tracker HOST:PORT: <what went wrong>").
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/sha256.hpp"
#include "format/wire.hpp"

namespace p2p::tracker_client {

// How long a tracker call may take (connect, request, answer) before the caller goes
// on without it: an announce, a publish, a lookup. A tracker answers in milliseconds
// (docs/TRACKER.md); 5 s covers a slow path without holding a start-up for long.
inline constexpr std::chrono::milliseconds kTrackerTimeout{5000};
// A "stopped" announce, sent while the process ends: the tracker drops us after two
// intervals anyway, so the end of a run is not held up for more than this.
inline constexpr std::chrono::milliseconds kStoppedAnnounceTimeout{1500};

// The announce's event (the protocol's `event=`; none: a periodic announce).
enum class AnnounceEvent { none, started, completed, stopped };
// Its word on the wire: "started", "completed", "stopped", or "" for none.
const char* event_word(AnnounceEvent event);
// The deadline of an announce with this event: kStoppedAnnounceTimeout for stopped, else kTrackerTimeout.
std::chrono::milliseconds announce_timeout(AnnounceEvent event);

// The interval a tracker's answer may carry: what p2p-tracker --interval accepts
// (format/tracker_protocol.hpp); an answer outside it is malformed. A client then
// announces again after next_announce_after(interval), which holds it to 5 s..1 h:
// never more often than every 5 s, whatever a tracker asks (a misconfigured tracker
// cannot make every client hammer it), and at least hourly, so a tracker that
// restarted with an empty swarm (or a day-long interval) learns of us within the hour.
inline constexpr std::chrono::seconds kMinAnnounceDelay{5}, kMaxAnnounceDelay{3600};
std::chrono::seconds next_announce_after(int tracker_interval_seconds);

struct AnnounceRequest {
  Digest info_hash{};
  std::string peer_id;  // 40 hex digits
  std::uint16_t port = 0;
  AnnounceEvent event = AnnounceEvent::none;
  std::uint64_t left = 0, uploaded = 0, downloaded = 0;
  int numwant = 50;
};

struct AnnounceResponse {
  int interval = 0;  // seconds until the next announce
  std::vector<wire::PeerAddress> peers;
  int seeders = 0, leechers = 0;
  // The file was published there and its publisher withdrew it: seeders stop serving it.
  bool withdrawn = false;
  // The tracker takes rendezvous polls (GET /rendezvous); relay_port != 0: it relays too.
  bool rendezvous = false;
  std::uint16_t relay_port = 0;
  // Peers in `peers` that the tracker told to dial us now (they wait behind a NAT): we
  // dial them at once too, so that both SYNs cross (a punched hole).
  std::vector<wire::PeerAddress> told;
};

// One answer to a rendezvous poll (docs/TRACKER.md, "Across NATs").
struct RendezvousNote {
  Digest swarm{};            // the id we announced: info hash, or a private swarm's id
  wire::PeerAddress from;    // who wants to connect, as the tracker saw it
  std::string relay_ticket;  // non-empty: meet it at the tracker's relay, at relay_port
  std::uint16_t relay_port = 0;
};
struct RendezvousAnswer {
  std::vector<RendezvousNote> notes;
  std::optional<bool> reachable;  // the tracker's connect-back probe to `seen_as`, once done
  wire::PeerAddress seen_as;      // our address as the tracker sees it (ip) and as we announce it (port)
};
struct RelayOffer {
  std::string ticket;  // 64 hex
  std::uint16_t relay_port = 0;
};

AnnounceResponse announce(const std::string& tracker, const AnnounceRequest& request,
                          std::chrono::milliseconds timeout);
// The raw meta JSON as the tracker stored it; the caller re-parses it with
// parse_meta and compares the info hash with the one it asked for.
std::string fetch_meta_json(const std::string& tracker, const std::string& info_hash_hex,
                            std::chrono::milliseconds timeout);
// The info hash (64 hex) of the file published under exactly this name (the
// newest if several). Throws if the tracker knows no such name.
std::string lookup_info_hash_by_name(const std::string& tracker, const std::string& name,
                                     std::chrono::milliseconds timeout);
// Publishes meta JSON; succeeds if the tracker stored it or already had it. Returns
// the owner token (64 hex: the right to withdraw it) when this call stored it.
std::optional<std::string> publish_meta(const std::string& tracker, const std::string& meta_json,
                                        std::chrono::milliseconds timeout = kTrackerTimeout);
// GET /files?q=substring: the tracker's JSON answer (checked to be an object).
std::string list_files_json(const std::string& tracker, const std::string& substring, std::chrono::milliseconds timeout);
// POST /withdraw with the owner token; throws Error(tracker) naming the refusal (403, 404).
void withdraw(const std::string& tracker, const std::string& info_hash_hex, const std::string& owner_token,
              std::chrono::milliseconds timeout);

// A fresh random peer id (40 hex digits).
std::string random_peer_id();

}  // namespace p2p::tracker_client
