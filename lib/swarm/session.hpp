// A Session is what one process runs: one listener, one io thread, one hashing
// pool, shared connection and memory budgets, global rate limits, one reputation
// store, one peer id. It holds any number of torrents (one per info hash);
// incoming connections are routed to a torrent by the info hash in their
// handshake. p2p-seed is a session with many torrents, p2p-download one with a
// torrent per file asked for. Asio stays inside the .cpp files.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/limits.hpp"
#include "format/meta.hpp"
#include "format/wire.hpp"
#include "storage/piece_store.hpp"

namespace asio {
class io_context;
}

namespace p2p {

struct SessionSnapshot;
struct TorrentSnapshot;

struct SessionOptions {
  std::optional<std::uint16_t> listen_port;  // accept connections (0 = any free port)
  std::string listen_host = "0.0.0.0";
  std::uint64_t max_upload_rate = 0;         // bytes/s over all torrents, 0 = unlimited
  std::uint64_t max_download_rate = 0;
  std::filesystem::path reputation_db;       // SQLite file; empty = this run only
  // A seeder keeps running when no torrent is left (until SIGINT/SIGTERM);
  // otherwise the session ends once every torrent is finished or failed.
  bool run_until_signal = false;
  // Map the listen port on the gateway (UPnP-IGD, NAT-PMP) and announce the mapped
  // address; announce our swarms on the LAN by multicast and dial who answers.
  // Both are off, whatever these say, when discovery_allowed(listen_host) is false
  // (P2P_NO_DISCOVERY=1, or a loopback listen address).
  bool port_mapping = true;
  bool lan_discovery = true;
};

struct TorrentOptions {
  std::vector<wire::PeerAddress> peers;   // dialled at start (and redialled with back-off)
  // Connections opened to each peer given here; several are used only while that peer is
  // the only one (Torrent::carries_requests), so 1 is the default (apps/p2p-download.cpp).
  int parallel = 1;
  std::vector<std::string> trackers;      // "host:port": announce to these, take peers from them
  bool keep_seeding = false;              // once complete, keep serving
  // p2p-download --only: the pieces to fetch (a tree's selected files); the torrent
  // stops, its state saved, once they are verified. Empty: every piece.
  std::optional<Bitfield> selection;
  std::optional<std::chrono::seconds> seed_time;
  // With no peer connected and none left to try soon, how long to keep retrying
  // before failing with ExitCode::peers_failed.
  std::chrono::seconds give_up_after = std::chrono::duration_cast<std::chrono::seconds>(limits::kDefaultGiveUpAfter);
};

// What a session reports; the names are the "event" values of --json output.
enum class EventKind {
  peer_connected, peer_dropped, bad_piece, banned, notice, resumed, verifying, tracker,
  torrent_added, torrent_stopped, torrent_removed, waiting,
};
std::string_view event_kind_name(EventKind kind);

struct TorrentStats {
  std::string name;
  std::string info_hash_hex;
  std::uint64_t total_bytes = 0;
  std::uint64_t verified_bytes = 0;    // on disk and hash-checked (includes resumed)
  std::uint64_t resumed_bytes = 0;     // verified before this run started
  std::uint64_t downloaded_bytes = 0;  // payload received this run (incl. wasted)
  std::uint64_t uploaded_bytes = 0;
  std::uint64_t wasted_bytes = 0;      // duplicates and pieces that failed their hash
  std::uint32_t pieces_total = 0, pieces_verified = 0, bad_pieces = 0;
  std::uint32_t files_total = 0, files_done = 0;  // trees only (0 for a single file)
  std::size_t peers = 0;               // connections past the handshake
  double distributed_copies = 0;       // complete copies among the peers (PiecePicker)
  double download_rate = 0, upload_rate = 0;  // bytes/s, recent
  double elapsed = 0;                  // seconds since the torrent started
};

// Receives what a session does; all calls come from the session's io thread.
class SessionObserver {
 public:
  virtual ~SessionObserver() = default;
  virtual void on_listening(const std::string& host, std::uint16_t port) = 0;
  // `torrent` is the file's name ("" for the session itself).
  virtual void on_event(const std::string& torrent, EventKind kind, const std::string& text) = 0;
  virtual void on_progress(const TorrentStats& stats) = 0;
  // A tree's file whose every piece is verified is now at its path (relative to the tree).
  virtual void on_file_complete(const std::string& torrent, const std::string& path, std::uint64_t size) {
    (void)torrent, (void)path, (void)size;
  }
};

struct TorrentOutcome {
  std::string name;
  bool complete = false;            // file verified and in its final place
  bool selection_complete = false;  // --only: every selected file verified (each at WORKDIR/<name>/<path>)
  TorrentStats stats;
  std::vector<std::string> banned;  // peers banned this run, with reasons
  std::optional<Error> error;       // why it stopped, if it failed
};

struct SessionOutcome {
  bool interrupted = false;         // stopped by SIGINT/SIGTERM
  std::vector<TorrentOutcome> torrents;  // in the order they were added (removed ones excluded)
};

class Session {
 public:
  Session(SessionOptions options, SessionObserver& observer);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Adds a torrent for `meta` with its store (opened against *meta). Before run()
  // or on the io thread (from a callback). Throws Error(usage) for a duplicate.
  void add_torrent(std::shared_ptr<const Meta> meta, PieceStore store, TorrentOptions options);
  // Stops a torrent, closes its peers and forgets it. On the io thread.
  void remove_torrent(const Digest& info_hash, const std::string& why);
  bool has_torrent(const Digest& info_hash) const;
  std::size_t torrent_count() const;
  // Pauses (closes its peers, dials and accepts none, keeps its pieces and its
  // announces) or resumes a torrent. On the io thread. False if there is no such
  // torrent or it is stopped or failed.
  bool set_paused(const Digest& info_hash, bool paused);

  // A copy of what the session shows (session_snapshot.hpp). On the io thread.
  SessionSnapshot snapshot() const;
  // The same for one torrent (nullopt if there is none). On the io thread.
  std::optional<TorrentSnapshot> snapshot_of(const Digest& info_hash) const;
  // The session's event loop, for components that serve on it (the node's HTTP
  // page): what they post there runs on the io thread, between torrents' work.
  asio::io_context& io_context();

  // Descriptors the application holds beside the session's (its page's connections):
  // kept out of the peers' connection cap, so that both fit the open-file limit.
  void reserve_descriptors(std::size_t n);

  // Calls fn on the io thread every `period` while the session runs.
  void every(std::chrono::milliseconds period, std::function<void()> fn);
  // Runs work on the session's hashing pool, then done on the io thread.
  void in_background(std::function<void()> work, std::function<void()> done);
  void report(const std::string& torrent, EventKind kind, const std::string& text);
  // Calls fn on the io thread at each SIGHUP while run() runs (`systemctl reload`):
  // what can be reloaded is. Before run(). Without one, SIGHUP keeps its default action.
  void on_hangup(std::function<void()> fn);

  // Listens (if asked), runs until finished or interrupted. Errors that end the
  // whole session (a busy port) throw Error; a torrent's own failure is in its outcome.
  SessionOutcome run();
  // Thread-safe: ends run() soon, as SIGTERM would (torrents save their state).
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// "host:port" -> PeerAddress; host may be a name (resolved later) or numeric. Error(usage) otherwise.
wire::PeerAddress parse_peer_address(const std::string& text);

}  // namespace p2p
