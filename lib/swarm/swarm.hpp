// A running swarm for one file: listens, dials peers, trades pieces, verifies
// them and keeps the piece store current. Both p2p-seed and p2p-download are a
// Swarm with different options. Asio stays inside swarm.cpp.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "format/meta.hpp"
#include "storage/piece_store.hpp"
#include "format/wire.hpp"

namespace p2p {

struct SwarmOptions {
  std::vector<wire::PeerAddress> peers;   // dialled at start (and redialled with back-off)
  int parallel = 4;                       // connections opened to each peer we dial
  std::optional<std::uint16_t> listen_port;  // accept connections (0 = any free port)
  std::string listen_host = "0.0.0.0";
  bool keep_seeding = false;              // once complete, keep serving until stopped
  std::optional<std::chrono::seconds> seed_time;
  std::vector<std::string> trackers;      // "host:port": announce to these, take peers from them
  std::uint64_t max_upload_rate = 0;      // bytes/s, 0 = unlimited
  std::uint64_t max_download_rate = 0;
  std::filesystem::path reputation_db;    // SQLite file for peer reputation; empty = this run only
};

struct SwarmStats {
  std::uint64_t total_bytes = 0;
  std::uint64_t verified_bytes = 0;    // on disk and hash-checked (includes resumed)
  std::uint64_t resumed_bytes = 0;     // verified before this run started
  std::uint64_t downloaded_bytes = 0;  // payload received this run (incl. wasted)
  std::uint64_t uploaded_bytes = 0;
  std::uint64_t wasted_bytes = 0;      // duplicates and pieces that failed their hash
  std::uint32_t pieces_total = 0, pieces_verified = 0, bad_pieces = 0;
  std::size_t peers = 0;               // connections past the handshake
  double download_rate = 0, upload_rate = 0;  // bytes/s, recent
  double elapsed = 0;                  // seconds since run() began
};

// Receives what a swarm does; all calls come from the swarm's thread.
class SwarmObserver {
 public:
  virtual ~SwarmObserver() = default;
  virtual void on_listening(const std::string& host, std::uint16_t port) = 0;
  // kind: "peer_connected", "peer_dropped", "bad_piece", "banned", "notice", "resumed", "verifying"
  virtual void on_event(const std::string& kind, const std::string& text) = 0;
  virtual void on_progress(const SwarmStats& stats) = 0;
};

struct SwarmOutcome {
  bool complete = false;      // file verified and in its final place
  bool interrupted = false;   // stopped by SIGINT/SIGTERM
  SwarmStats stats;
  std::vector<std::string> banned;  // peers banned this run, with reasons
  std::string path;                 // where the complete file is
};

class Swarm {
 public:
  Swarm(const Meta& meta, PieceStore& store, SwarmOptions options, SwarmObserver& observer);
  ~Swarm();
  // Runs until complete (unless keep_seeding), interrupted, or failed (throws Error).
  SwarmOutcome run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "host:port" -> PeerAddress; host may be a name (resolved) or a numeric address.
wire::PeerAddress parse_peer_address(const std::string& text);

}  // namespace p2p
