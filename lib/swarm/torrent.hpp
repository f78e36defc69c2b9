// One file's swarm inside a session: meta, piece store, picker, peer directory,
// choker, smart ban, its peers and stats, its announcer, and its own failure (a
// torrent whose source vanishes or whose disk fails stops; the others go on).
// Shared resources (io thread, hashing pool, buffers, limits, reputation) are the
// process's: a torrent asks for them through its TorrentHost (torrent_host.hpp), which
// the session implements, and sees nothing else of the session. Included only by swarm
// sources: it pulls in Asio.
#pragma once
#include <map>
#include <memory>
#include <random>
#include <set>

#include "base/hash_batches.hpp"
#include "storage/source_identity.hpp"
#include "storage/whole_file_verifier.hpp"
#include "swarm/announcer.hpp"
#include "swarm/peer.hpp"
#include "swarm/policy/choker.hpp"
#include "swarm/policy/initial_seeding.hpp"
#include "swarm/policy/peer_directory.hpp"
#include "swarm/piece_buffer_pool.hpp"
#include "swarm/policy/smart_ban.hpp"
#include "swarm/reputation.hpp"
#include "swarm/session.hpp"
#include "swarm/session_snapshot.hpp"
#include "swarm/tls_context.hpp"
#include "swarm/torrent_host.hpp"

namespace p2p {

class Torrent final : public ConnectionHandler {
 public:
  enum class State { running, complete, stopped, failed };

  using Clock = TorrentHost::Clock;

  Torrent(TorrentHost& host, std::shared_ptr<const Meta> meta, PieceStore store, TorrentOptions options);
  ~Torrent() override;

  const Meta& meta() const { return *meta_; }
  // A private swarm's TLS key material (identity, PSK); nullopt for a public one.
  const std::optional<PskMaterial>& psk() const { return psk_; }
  State state() const { return state_; }
  // Done for the session's purposes: failed, stopped, or complete and not seeding.
  bool finished() const;
  bool accepts_peers() const { return !paused_ && (state_ == State::running || state_ == State::complete); }
  // Whether it dials the peers it learns of. A seeder dials too (both ends dial): a
  // seeder behind a NAT cannot be dialled, so it must reach the downloaders itself.
  bool dials() const {
    return !paused_ && !host_.stopping() && (state_ == State::running || (state_ == State::complete && opt_.keep_seeding));
  }

  void start();
  // A routed incoming connection: decides on its handshake and, if accepted, adopts it.
  HandshakeAnswer adopt(const std::shared_ptr<PeerConnection>& c, const wire::Handshake& theirs);
  void tick(Clock::time_point now);
  // Closes every peer and stops announcing; `failure` marks it failed with that error.
  void stop(const std::string& why, std::optional<Error> failure = std::nullopt);
  // Announces "stopped" to the trackers (bounded), at session end.
  asio::awaitable<void> stop_announcing();
  std::size_t hashing() const { return hashing_; }
  // What its connections' links deliver to us, summed over them: the session sizes its
  // piece-buffer budget on it (policy/piece_buffer_budget.hpp).
  struct LinkTotals {
    double bandwidth_delay = 0;  // bytes in flight (each link's rate x round trip)
    double rate = 0;             // bytes/s (the request pipelines' rates)
    std::size_t verifying = 0;   // bytes of whole pieces waiting for their hash and write
    double round_trip = 0;       // seconds: the longest of the connections with requests out
  };
  LinkTotals link_totals() const;
  bool announcing() const { return announcer_ != nullptr; }
  // The port we are reached at changed (a port mapping came or went): tell the trackers now.
  void announce_now() {
    if (announcer_) announcer_->announce_now();
  }
  // After the hash pool drained: saves what is verified (unless complete) and reports.
  TorrentOutcome outcome();
  std::size_t peer_count() const { return peers_.size(); }
  // Paused: no peers, no dials, no incoming connections; pieces and announces kept.
  void set_paused(bool paused);
  bool paused() const { return paused_; }
  TorrentSnapshot snapshot() const;
  // Addresses found by the session's own discovery (LAN announces): dialled as the
  // directory's rules say for `source`. `advertiser_ip`: where the hint came from.
  void learn_peers(const std::vector<wire::PeerAddress>& peers, PeerDirectory::Source source,
                   const std::string& advertiser_ip);
  // A tracker's rendezvous note for this torrent: dial that peer now, or meet it at the relay.
  void rendezvous_note(const std::string& tracker, const tracker_client::RendezvousNote& note);
  // The id this torrent is known by outside its swarm's handshakes (trackers, LAN
  // announces): the info hash, or for a private swarm the id derived from its key.
  Digest public_id() const;

  // ---- ConnectionHandler (after the handshake) ---------------------------------------
  HandshakeAnswer on_handshake(PeerConnection& c, const wire::Handshake& theirs) override;
  void on_message(PeerConnection& c, const wire::Message& m, std::span<const std::uint8_t> payload) override;
  std::span<std::uint8_t> block_destination(PeerConnection& c, const wire::Piece& p, std::uint32_t len) override;
  void on_block(PeerConnection& c, const BlockRef& b, bool stored) override;
  BlockSource block_source(PeerConnection& c, const wire::Request& r) override;
  void on_closed(PeerConnection& c, CloseReason reason, const std::string& detail) override;

 private:
  // A piece whose blocks are arriving, held in memory until hashed.
  struct InFlight {
    std::vector<std::uint8_t> data;
    std::set<std::string> sources;          // peer keys of those that sent blocks of it
    std::vector<std::string> block_source;  // per block: who sent it
    std::vector<Digest> block_hashes;       // filled only when a piece from several peers fails
  };

  // ---- life cycle (torrent.cpp) ------------------------------------------------------------
  wire::Handshake our_handshake() const;
  void event(EventKind kind, const std::string& text);
  void fail(const Error& e);
  // Tells the host once, when finished() first holds, that this torrent is done.
  void report_finished();
  // A tracker says the publisher withdrew the file: a seeder stops serving it.
  void withdrawn_by(const std::string& tracker);
  Peer* peer_of(PeerConnection& c);
  void check_source();
  void save_state();
  // A file complete at start() spreads one copy first (policy/initial_seeding.hpp).
  void start_initial_seeding();

  // ---- dialling and admission (torrent_dialling.cpp) ------------------------------------------
  asio::awaitable<void> connect(wire::PeerAddress addr);
  void report_failure(const wire::PeerAddress& addr);
  void maintain_dials();
  // `advertiser`: the gossiping peer's IP (quota, confirmations); `advertiser_ip`:
  // where the list came from (a tracker's or a peer's address), for dialable().
  void add_peers(const std::vector<wire::PeerAddress>& peers, PeerDirectory::Source source,
                 const std::string& advertiser, const std::string& advertiser_ip);
  Peer& attach(const std::shared_ptr<PeerConnection>& c, std::optional<wire::PeerAddress> dialled);
  void welcome(Peer& p);  // handshake accepted: send our bitfield, report it
  void report_connected(const Peer& p);  // the peer_connected event: who, direction, how reached
  // Our dial that gives way when we and the peer with `their_id` dialled each other at
  // once and both connections are up (`c` is the newer one), or nullptr.
  Peer* crossed_dial(PeerConnection& c, const std::string& their_id);
  void check_hope(Clock::time_point now);  // gives up when no peer can supply the rest

  // ---- across NATs (torrent_reach.cpp) -----------------------------------------------------
  void tracker_answered(const std::string& tracker, tracker_client::AnnounceResponse& answer);
  // After failed direct dials to an address a relaying tracker gave us: ask it for a relay.
  void maybe_relay(const wire::PeerAddress& addr);
  asio::awaitable<void> relay_dial(wire::PeerAddress addr, std::string tracker, std::uint16_t relay_port);
  asio::awaitable<void> relay_accept(std::string tracker, tracker_client::RendezvousNote note);

  // ---- messages, choking, gossip, timeouts (torrent_messages.cpp) --------------------------
  void handle(Peer& p, const wire::BitfieldMsg&, std::span<const std::uint8_t> payload);
  void handle(Peer& p, const wire::Have& h, std::span<const std::uint8_t>);
  void handle(Peer& p, const wire::Haves& h, std::span<const std::uint8_t>);
  bool note_have(Peer& p, std::uint32_t piece);  // false if it was known
  // How long our `have`s to `p` may wait for company: kCoalesceDelay (100 ms), or
  // kChokedHaveDelay while we choke it (unless it is a seed: an initial seeder shows its
  // next pieces when ours have spread). A peer we choke cannot request from us: what it
  // learns from them is only whether to say `interested`, and an unchoke (or any other
  // frame to it) takes the waiting ones along. Most peers of a big swarm are choked (4
  // slots + 1 optimistic): N = 32 sent 114k -> 63k writes; interleaved runs,
  // heterogeneous 17.1-17.2 -> 15.7-16.2 s, 26.0 -> 21.7-23.6 CPU-s; 500 ms and 2 s were
  // no better (bench/results/netns_swarm_bench-n32-haves-2026-12-05.txt).
  PeerConnection::Clock::duration have_hold(const Peer& p) const;
  static constexpr auto kChokedHaveDelay = std::chrono::seconds(1);
  void handle(Peer& p, const wire::Request& r, std::span<const std::uint8_t>);
  void handle(Peer& p, const wire::Cancel& r, std::span<const std::uint8_t>);
  void handle(Peer& p, const wire::Choke&, std::span<const std::uint8_t>);
  void handle(Peer& p, const wire::Unchoke&, std::span<const std::uint8_t>);
  void handle(Peer& p, const wire::Interested&, std::span<const std::uint8_t>);
  void handle(Peer& p, const wire::NotInterested&, std::span<const std::uint8_t>);
  void handle(Peer& p, const wire::ErrorMsg& e, std::span<const std::uint8_t>);
  void handle(Peer& p, const wire::Pex& x, std::span<const std::uint8_t>);
  void handle(Peer&, const wire::KeepAlive&, std::span<const std::uint8_t>) {}
  void handle(Peer&, const wire::Handshake&, std::span<const std::uint8_t>) {}
  void handle(Peer&, const wire::Piece&, std::span<const std::uint8_t>) {}
  void check_block_bounds(std::uint32_t piece, std::uint32_t begin, std::uint32_t length, const char* what);
  void set_interest(Peer& p);
  void close_if_both_complete(Peer& p);
  void note_seeder(const wire::PeerAddress& a);  // a seeder we parted from (seeding_too)
  bool carries_requests(const Peer& p) const;  // false for an extra connection to a peer, in a swarm
  void refresh_parallel_interest();
  // Initial seeding (policy/initial_seeding.hpp): `have`s for what it shows each peer.
  void show(const std::vector<InitialSeeding::Reveal>& reveals);
  void rechoke(Clock::time_point now);
  void take_back_unrequested(Clock::time_point now);
  void end_initial_seeding(Clock::time_point now);
  void send_pex(Clock::time_point now);
  void check_timeouts(Clock::time_point now);

  // ---- requesting (torrent_requests.cpp) -------------------------------------------------------
  void drop_requests(Peer& p);
  void release_abandoned_buffers();
  void release_buffer(InFlight& piece);  // its buffer, or its reservation, back to the host's pool
  bool piece_started(std::uint32_t piece) const;
  void request_more(Peer& p);
  void request_more_all();

  // ---- verifying and completing (torrent_verification.cpp) ------------------------------------
  void hash_piece(std::uint32_t piece);
  void piece_checked(std::uint32_t piece, InFlight job, bool ok, std::exception_ptr err);
  // Every piece verified: the whole-file check (on the verifier's thread when the meta has
  // a whole-file hash: its result is posted back), then whole_file_checked finishes the file.
  void on_all_pieces();
  void whole_file_checked(const Digest& whole, std::exception_ptr error);
  void on_selection_complete();  // --only: the selected files are verified

  // ---- scores and bans (torrent_bans.cpp) ----------------------------------------------------
  void note_ban(const std::string& key, const std::string& reason);
  void ban(const std::string& key, const std::string& reason);
  void score_close(const Peer& p, CloseReason reason, const std::string& detail);

  // ---- status (torrent_status.cpp) -----------------------------------------------------------
  PeerOrigin origin_of(const Peer& p) const;  // how it was reached (session_snapshot.hpp)
  void report_progress();
  void fill_stats();

  TorrentHost& host_;
  std::shared_ptr<const Meta> meta_;
  std::optional<PskMaterial> psk_;
  PieceStore store_;
  TorrentOptions opt_;
  State state_ = State::running;
  std::optional<Error> error_;
  PiecePicker picker_;
  std::unique_ptr<WholeFileVerifier> verifier_;
  std::optional<SourceIdentity> source_identity_;  // a seeded source as verified
  std::map<std::uint64_t, Peer> peers_;            // by connection id
  PeerDirectory dir_;
  Choker choker_{std::random_device{}()};
  // Set while this torrent seeds a file it had complete from the start: it spreads one copy first.
  std::unique_ptr<InitialSeeding> initial_seeding_;
  SmartBan smart_ban_;
  std::shared_ptr<Announcer> announcer_;
  std::map<std::string, std::string> banned_;      // peer key -> reason, this run
  std::map<std::uint32_t, InFlight> inflight_;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint64_t> receiving_;  // (piece, begin) -> conn id
  std::size_t hashing_ = 0;
  std::size_t verifying_bytes_ = 0;  // of the received pieces among them (hash_piece)
  // Received pieces to hash and write, handed to the session's pool in batches; the
  // replies (piece_checked) come back on the io thread, several per post.
  HashBatches checks_{host_.hashers(), [io = &host_.io()](std::function<void()> fn) { asio::post(*io, std::move(fn)); }};
  TorrentStats stats_;
  std::uint64_t last_down_ = 0, last_up_ = 0;
  RateMeter upload_meter_;  // initial seeding's window follows it (sampled every tick)
  Clock::time_point started_ = host_.now(), last_progress_{}, last_save_ = host_.now(), completed_at_{},
                    hopeless_since_{}, last_source_check_{}, last_waiting_report_{};
  // Which tracker gave us an address (the one to ask for a relay to it), and when we last
  // tried a relay to it; both bounded by the directory's size.
  std::map<wire::PeerAddress, std::string> tracker_of_;
  std::map<wire::PeerAddress, Clock::time_point> relay_tried_;
  // Seeders we parted from because we seed too: still alive and serving, so they stay in
  // what we gossip for kSeederGossipTime (when seeders part, gossip would lose them).
  std::map<wire::PeerAddress, Clock::time_point> seeders_parted_;
  static constexpr std::size_t kMaxSeedersParted = limits::kMaxPexPeersPerMessage;
  static constexpr auto kSeederGossipTime = std::chrono::minutes(10);
  // False once this torrent is destroyed: coroutines of its own that outlive it (a dial, a
  // relay being set up: up to ~25 s) check it after every wait before touching the torrent.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool state_dirty_ = false;
  bool selection_done_ = false;
  bool paused_ = false;
  bool reported_finished_ = false;
  bool complete_at_start_ = false;  // every piece verified when start() ran
  bool finishing_ = false;          // on_all_pieces waits for the whole-file check
};

}  // namespace p2p
