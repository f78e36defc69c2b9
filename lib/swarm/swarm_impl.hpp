// The swarm's private state and the declarations shared by swarm.cpp (life
// cycle, dialling, housekeeping) and swarm_peers.cpp (what each connection says,
// requesting, verifying). Included only by those two files: it pulls in Asio.
#pragma once
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

#include <map>
#include <random>
#include <set>

#include "swarm/announcer.hpp"
#include "swarm/policy/choker.hpp"
#include "base/limits.hpp"
#include "swarm/peer_connection.hpp"
#include "swarm/policy/peer_directory.hpp"
#include "swarm/policy/peer_exchange.hpp"
#include "swarm/policy/piece_picker.hpp"
#include "swarm/policy/rate_limiter.hpp"
#include "swarm/reputation.hpp"
#include "swarm/policy/smart_ban.hpp"
#include "swarm/swarm.hpp"
#include "net/tracker_client.hpp"
#include "storage/whole_file_verifier.hpp"

namespace p2p {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

inline constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
inline constexpr auto kTick = std::chrono::milliseconds(250);
// Bytes of requests kept in flight per connection: fills a fast link, re-issues quickly.
inline constexpr std::size_t kPipelineBytes = 1u << 20;
// With a tracker, how long to wait for it to offer a peer when none is left.
inline constexpr auto kWaitForTrackerPeers = std::chrono::seconds(60);

inline std::vector<std::uint32_t> piece_lengths(const Meta& m) {
  std::vector<std::uint32_t> v(m.piece_count());
  for (std::uint32_t i = 0; i < m.piece_count(); ++i) v[i] = m.piece_length(i);
  return v;
}

struct Swarm::Impl final : ConnectionHandler {
  // A piece whose blocks are arriving, held in memory until hashed.
  struct InFlight {
    std::vector<std::uint8_t> data;
    std::set<std::string> sources;          // peer keys of those that sent blocks of it
    std::vector<std::string> block_source;  // per block: who sent it
    std::vector<Digest> block_hashes;       // filled only when a piece from several peers fails
  };

  const Meta& meta;
  PieceStore& store;
  SwarmOptions opt;
  SwarmObserver& observer;
  asio::io_context io;
  asio::thread_pool hashers{std::max(1u, std::thread::hardware_concurrency())};
  std::optional<tcp::acceptor> acceptor;
  PiecePicker picker;
  std::unique_ptr<WholeFileVerifier> verifier;
  std::string peer_id = tracker::random_peer_id();
  std::uint16_t listen_port = 0;

  std::map<std::uint64_t, std::shared_ptr<PeerConnection>> conns;
  std::uint64_t next_conn_id = 1;
  PeerDirectory dir;
  std::map<std::uint64_t, wire::PeerAddress> addr_of;  // conn id -> the address the peer listens on, if known
  std::map<std::uint64_t, PeerExchange> pex;
  Choker choker{std::random_device{}()};
  RateLimiter up_limit, down_limit;
  std::unique_ptr<Announcer> announcer;
  Clock::time_point hopeless_since{};
  Reputation reputation;
  std::map<std::string, std::string> banned;  // peer key -> reason, this run
  SmartBan smart_ban;
  std::map<std::uint32_t, InFlight> inflight;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint64_t> receiving;  // (piece, begin) -> conn id reading it
  std::vector<std::vector<std::uint8_t>> spare_buffers;
  std::size_t inflight_bytes = 0;
  std::size_t hashing = 0;

  SwarmStats stats;
  std::uint64_t last_down = 0, last_up = 0;
  Clock::time_point started = Clock::now(), last_progress{}, last_save = Clock::now(), completed_at{};
  bool state_dirty = false, complete = false, interrupted = false, stopping = false;
  std::exception_ptr fatal;

  Impl(const Meta& m, PieceStore& s, SwarmOptions o, SwarmObserver& obs)
      : meta(m), store(s), opt(std::move(o)), observer(obs),
        picker(piece_lengths(m), limits::kBlockSize, std::random_device{}()), dir(opt.parallel),
        up_limit(opt.max_upload_rate), down_limit(opt.max_download_rate), reputation(opt.reputation_db) {
    for (std::uint32_t i = 0; i < meta.piece_count(); ++i)
      if (store.has(i)) picker.mark_have(i);
    stats.total_bytes = meta.size;
    stats.pieces_total = meta.piece_count();
    stats.resumed_bytes = store.verified_bytes();
    for (const auto& p : opt.peers) dir.add(p, PeerDirectory::Source::command_line);
  }

  ~Impl() override { hashers.join(); }

  wire::Handshake our_handshake() const;

  // ---- errors and shutdown -------------------------------------------------

  void fail(std::exception_ptr e);

  void shutdown();

  // ---- listening and dialling ----------------------------------------------

  void listen();

  asio::awaitable<void> accept_loop();

  void add_connection(tcp::socket socket, bool outgoing, std::optional<wire::PeerAddress> dialled);

  asio::awaitable<void> connect(wire::PeerAddress addr);

  void report_failure(const wire::PeerAddress& addr);

  void maintain_dials();

  void add_peers(const std::vector<wire::PeerAddress>& peers, PeerDirectory::Source source);
  static bool is_local(const std::string& host) { return host == "127.0.0.1" || host == "::1"; }

  // ---- ConnectionHandler -------------------------------------------------------

  std::string on_handshake(PeerConnection& c, const wire::Handshake& h) override;

  void set_interest(PeerConnection& c);

  void on_message(PeerConnection& c, const wire::Message& m, std::span<const std::uint8_t> payload) override;

  void handle(PeerConnection& c, const wire::BitfieldMsg&, std::span<const std::uint8_t> payload);
  void handle(PeerConnection& c, const wire::Have& h, std::span<const std::uint8_t>);
  void handle(PeerConnection& c, const wire::Request& r, std::span<const std::uint8_t>);
  void handle(PeerConnection& c, const wire::Cancel& r, std::span<const std::uint8_t>);
  void handle(PeerConnection& c, const wire::Choke&, std::span<const std::uint8_t>);
  void handle(PeerConnection& c, const wire::Unchoke&, std::span<const std::uint8_t>);
  void handle(PeerConnection& c, const wire::Interested&, std::span<const std::uint8_t>);
  void handle(PeerConnection& c, const wire::NotInterested&, std::span<const std::uint8_t>);
  void handle(PeerConnection& c, const wire::ErrorMsg& e, std::span<const std::uint8_t>);
  void handle(PeerConnection& c, const wire::Pex& p, std::span<const std::uint8_t>);
  void handle(PeerConnection&, const wire::KeepAlive&, std::span<const std::uint8_t>) {}
  void handle(PeerConnection&, const wire::Handshake&, std::span<const std::uint8_t>) {}
  void handle(PeerConnection&, const wire::Piece&, std::span<const std::uint8_t>) {}

  void check_block_bounds(std::uint32_t piece, std::uint32_t begin, std::uint32_t length, const char* what);

  // Only one connection at a time may be reading a given block into the piece buffer:
  // a second copy (endgame) is discarded, so no bytes change under a piece being hashed.
  std::span<std::uint8_t> block_destination(PeerConnection& c, const wire::Piece& p, std::uint32_t len) override;

  void on_block(PeerConnection& c, const BlockRef& b, bool stored) override;

  BlockSource block_source(PeerConnection&, const wire::Request& r) override;

  void on_closed(PeerConnection& c, const std::string& why) override;

  // ---- requesting ----------------------------------------------------------------

  void drop_requests(PeerConnection& c);

  void release_abandoned_buffers();

  // The picker drops a piece back to "wanted" when nobody works on it; we free its buffer then.
  bool piece_started(std::uint32_t piece) const;

  // Piece buffers are recycled, never freed mid-run: fresh allocations of this
  // size are mmapped, and faulting their pages in again costs more than the copy.
  // Their number is bounded by kMaxPiecesInFlightBytes.
  std::vector<std::uint8_t> take_buffer();
  void recycle(std::vector<std::uint8_t> buf);

  void request_more(PeerConnection& c);

  // ---- verifying -------------------------------------------------------------------

  void hash_piece(std::uint32_t piece);

  void piece_checked(std::uint32_t piece, InFlight job, bool ok, std::exception_ptr err);

  // Records a ban for this run's summary and stops dialling that peer.
  void note_ban(const std::string& key, const std::string& reason);

  void ban(const std::string& key, const std::string& reason);

  // Scores what a closing connection did wrong; the peer is banned if its score drops too low.
  void score_close(PeerConnection& c, const std::string& why);

  void on_all_pieces();

  // ---- housekeeping ------------------------------------------------------------------

  asio::awaitable<void> ticker();

  void tick();

  // Gives up when no peer can be reached any more. With a tracker, waits a while for new peers.
  void check_hope(Clock::time_point now);

  void rechoke(Clock::time_point now);

  // Gossip: tell each peer about the others we are connected to (changes only, rate-limited).
  void send_pex(Clock::time_point now);

  void save_state();

  void report_progress();

  void fill_stats();

  SwarmOutcome run();
};

}  // namespace p2p
