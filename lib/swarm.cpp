// Swarm: the event loop of one file. Everything here runs on one io thread, so
// there are no locks; hashing and disk writes of received pieces run on a small
// thread pool and post their results back.
#include "swarm.hpp"

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <csignal>
#include <map>
#include <random>
#include <set>

#include "announcer.hpp"
#include "choker.hpp"
#include "error.hpp"
#include "limits.hpp"
#include "peer_connection.hpp"
#include "peer_directory.hpp"
#include "peer_exchange.hpp"
#include "piece_picker.hpp"
#include "rate_limiter.hpp"
#include "reputation.hpp"
#include "smart_ban.hpp"
#include "tracker_client.hpp"
#include "whole_file_verifier.hpp"

namespace p2p {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
namespace {
constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr auto kTick = std::chrono::milliseconds(250);
// Bytes of requests kept in flight per connection: fills a fast link, re-issues quickly.
constexpr std::size_t kPipelineBytes = 1u << 20;
// With a tracker, how long to wait for it to offer a peer when none is left.
constexpr auto kWaitForTrackerPeers = std::chrono::seconds(60);

std::vector<std::uint32_t> piece_lengths(const Meta& m) {
  std::vector<std::uint32_t> v(m.piece_count());
  for (std::uint32_t i = 0; i < m.piece_count(); ++i) v[i] = m.piece_length(i);
  return v;
}
}  // namespace

wire::PeerAddress parse_peer_address(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw Error(ExitCode::usage, fmt::format("peer {:?} is not HOST:PORT", text));
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned long port = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535)
      throw Error(ExitCode::usage, fmt::format("peer {:?}: port is not a number in 1-65535", text));
    port = port * 10 + static_cast<unsigned long>(c - '0');
  }
  if (port == 0 || port > 65535) throw Error(ExitCode::usage, fmt::format("peer {:?}: port must be 1-65535", text));
  return wire::PeerAddress{host, static_cast<std::uint16_t>(port)};
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
  std::uint64_t closed_uploaded = 0, closed_downloaded = 0;
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

  wire::Handshake our_handshake() const {
    return wire::Handshake{wire::kProtocolVersion, meta.info_hash, peer_id, listen_port};
  }

  // ---- errors and shutdown -------------------------------------------------

  void fail(std::exception_ptr e) {
    if (!fatal) fatal = e;
    shutdown();
  }

  void shutdown() {
    if (stopping) return;
    stopping = true;
    if (acceptor) acceptor->close();
    for (auto& [id, c] : std::map(conns)) c->close("shutting down");
    io.stop();
  }

  // ---- listening and dialling ----------------------------------------------

  void listen() {
    tcp::endpoint ep;
    std::error_code ec;
    auto addr = asio::ip::make_address(opt.listen_host, ec);
    if (ec) throw Error(ExitCode::usage, fmt::format("--host {:?} is not a numeric IP address", opt.listen_host));
    ep = tcp::endpoint(addr, *opt.listen_port);
    acceptor.emplace(io);
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      throw Error(ExitCode::bind_failed, fmt::format("cannot listen on {}:{}: {}", opt.listen_host, *opt.listen_port,
                                                     ec.message()));
    listen_port = acceptor->local_endpoint().port();
    observer.on_listening(opt.listen_host, listen_port);
    asio::co_spawn(io, accept_loop(), asio::detached);
  }

  asio::awaitable<void> accept_loop() {
    while (acceptor && acceptor->is_open()) {
      auto [ec, socket] = co_await acceptor->async_accept(kTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
        continue;  // EMFILE and friends: keep serving those we have
      }
      std::error_code ignored;
      auto remote = socket.remote_endpoint(ignored).address().to_string();
      std::size_t same = 0;
      for (auto& [id, c] : conns) same += c->remote_ip() == remote;
      if (conns.size() >= limits::kMaxConnectionsPerProcess || same >= limits::kMaxConnectionsPerAddress) {
        socket.close(ignored);
        continue;
      }
      add_connection(std::move(socket), false, std::nullopt);
    }
  }

  void add_connection(tcp::socket socket, bool outgoing, std::optional<wire::PeerAddress> dialled) {
    auto id = next_conn_id++;
    auto c = std::make_shared<PeerConnection>(std::move(socket), *this, id, outgoing, our_handshake());
    c->set_rate_limiters(&up_limit, &down_limit);
    conns[id] = c;
    if (dialled) addr_of[id] = *dialled;
    c->start();
  }

  asio::awaitable<void> connect(wire::PeerAddress addr) {
    tcp::resolver resolver(io);
    auto [rec_ec, results] = co_await resolver.async_resolve(addr.host, std::to_string(addr.port), kTuple);
    tcp::socket socket(io);
    std::error_code ec = rec_ec;
    if (!ec) {
      asio::steady_timer deadline(io, limits::kConnectTimeout);
      deadline.async_wait([&socket](std::error_code e) {
        if (!e) socket.close();
      });
      auto [cec, ep] = co_await asio::async_connect(socket, results, kTuple);
      deadline.cancel();
      ec = cec;
      if (!ec && !socket.is_open()) ec = asio::error::timed_out;
    }
    if (stopping) co_return;
    if (ec) {
      dir.dial_failed(addr, ec == asio::error::operation_aborted ? "connection timed out" : ec.message(), Clock::now());
      report_failure(addr);
      co_return;
    }
    dir.connected(addr);
    add_connection(std::move(socket), true, addr);
  }

  void report_failure(const wire::PeerAddress& addr) {
    if (dir.first_failure(addr) || dir.gave_up(addr))
      observer.on_event("peer_dropped", fmt::format("{}: {}{}", address_label(addr), dir.last_error(addr),
                                                    dir.gave_up(addr) ? " (giving up)" : ""));
  }

  void maintain_dials() {
    if (complete || stopping) return;
    std::size_t budget = limits::kMaxConnectionsPerProcess > conns.size() ? limits::kMaxConnectionsPerProcess - conns.size() : 0;
    auto plan = dir.to_dial(Clock::now(), budget);
    // Prefer peers with a better record; never dial one that is banned.
    std::stable_sort(plan.begin(), plan.end(), [&](const auto& a, const auto& b) {
      return reputation.score(address_label(a)) > reputation.score(address_label(b));
    });
    for (const auto& addr : plan) {
      if (reputation.banned(address_label(addr), std::chrono::system_clock::now())) {
        dir.ban(addr, "banned earlier");
        note_ban(address_label(addr), reputation.find(address_label(addr))->reason);
        continue;
      }
      dir.dialling(addr);
      asio::co_spawn(io, connect(addr), asio::detached);
    }
  }

  void add_peers(const std::vector<wire::PeerAddress>& peers, PeerDirectory::Source source) {
    for (const auto& p : peers)
      if (!(p.port == listen_port && is_local(p.host))) dir.add(p, source);
    maintain_dials();
  }
  static bool is_local(const std::string& host) { return host == "127.0.0.1" || host == "::1"; }

  // ---- ConnectionHandler -------------------------------------------------------

  std::string on_handshake(PeerConnection& c, const wire::Handshake& h) override {
    if (h.version != wire::kProtocolVersion) return "version_mismatch";
    if (h.info_hash != meta.info_hash) return "info_hash_mismatch";
    if (h.peer_id == peer_id) {
      if (auto it = addr_of.find(c.id()); it != addr_of.end()) dir.refuse_forever(it->second, "that is ourselves");
      return "self_connection";
    }
    if (banned.count(c.peer_key()) || reputation.banned(c.peer_key(), std::chrono::system_clock::now())) {
      note_ban(c.peer_key(), reputation.find(c.peer_key()) ? reputation.find(c.peer_key())->reason : "banned");
      return "banned";
    }
    if (!c.outgoing() && h.listen_port != 0) {
      // An incoming peer that listens: remember where, for peer exchange and to avoid dialling it too.
      wire::PeerAddress a{c.remote_ip(), h.listen_port};
      addr_of[c.id()] = a;
      dir.add(a, PeerDirectory::Source::pex);
      dir.incoming(a);
    }
    c.send_with_payload(wire::BitfieldMsg{}, std::vector<std::uint8_t>(store.verified().bytes().begin(),
                                                                       store.verified().bytes().end()));
    c.peer_has = Bitfield(meta.piece_count());
    observer.on_event("peer_connected", fmt::format("{} ({})", c.label(), c.outgoing() ? "outgoing" : "incoming"));
    return {};
  }

  void set_interest(PeerConnection& c) {
    bool want = false;
    if (!complete)
      for (std::uint32_t i = 0; i < meta.piece_count() && !want; ++i) want = c.peer_has.test(i) && !picker.have(i);
    if (want != c.am_interested) {
      c.am_interested = want;
      if (want) c.send(wire::Interested{});
      else c.send(wire::NotInterested{});
    }
  }

  void on_message(PeerConnection& c, const wire::Message& m, std::span<const std::uint8_t> payload) override {
    std::visit([&](const auto& msg) { handle(c, msg, payload); }, m);
  }

  void handle(PeerConnection& c, const wire::BitfieldMsg&, std::span<const std::uint8_t> payload) {
    Bitfield b;
    if (!Bitfield::from_bytes(payload, meta.piece_count(), b))
      throw wire::ProtocolError(fmt::format("bitfield of {} bytes for {} pieces", payload.size(), meta.piece_count()));
    picker.remove_peer(c.peer_has);
    c.peer_has = std::move(b);
    picker.add_peer(c.peer_has);
    set_interest(c);
  }
  void handle(PeerConnection& c, const wire::Have& h, std::span<const std::uint8_t>) {
    if (h.piece >= meta.piece_count())
      throw wire::ProtocolError(fmt::format("have for piece {} of {}", h.piece, meta.piece_count()));
    if (c.peer_has.size() == 0 || c.peer_has.test(h.piece)) return;
    c.peer_has.set(h.piece);
    picker.peer_has(h.piece);
    if (!c.am_interested && !picker.have(h.piece) && !complete) set_interest(c);
    request_more(c);
  }
  void handle(PeerConnection& c, const wire::Request& r, std::span<const std::uint8_t>) {
    check_block_bounds(r.piece, r.begin, r.length, "request");
    if (!store.has(r.piece)) throw wire::ProtocolError(fmt::format("request for piece {} we do not have", r.piece));
    if (c.am_choking) return;  // requests while choked are dropped, as in BitTorrent
    if (!c.queue_upload(r))
      throw wire::ProtocolError(fmt::format("more than {} requests queued", limits::kMaxQueuedRequestsPerPeer));
  }
  void handle(PeerConnection& c, const wire::Cancel& r, std::span<const std::uint8_t>) {
    c.cancel_upload(wire::Request{r.piece, r.begin, r.length});
  }
  void handle(PeerConnection& c, const wire::Choke&, std::span<const std::uint8_t>) {
    c.peer_choking = true;
    drop_requests(c);
  }
  void handle(PeerConnection& c, const wire::Unchoke&, std::span<const std::uint8_t>) {
    c.peer_choking = false;
    request_more(c);
  }
  void handle(PeerConnection& c, const wire::Interested&, std::span<const std::uint8_t>) {
    c.peer_interested = true;
    // A free regular slot is given at once; otherwise the next rechoke decides. Slots
    // held by peers that no longer want anything count as free.
    std::set<std::string> unchoked;
    for (auto& [id, o] : conns)
      if (!o->am_choking && o->peer_interested && o->peer_key() != choker.optimistic()) unchoked.insert(o->peer_key());
    if (c.am_choking && (unchoked.count(c.peer_key()) || unchoked.size() < Choker::kRegularSlots)) {
      c.am_choking = false;
      c.send(wire::Unchoke{});
    }
  }
  void handle(PeerConnection& c, const wire::NotInterested&, std::span<const std::uint8_t>) {
    c.peer_interested = false;
    // Its slot is free now: rechoke at once if someone interested is waiting, rather than
    // leaving them choked until the next 10-second round (that stalled swarms' last pieces).
    if (!c.am_choking)
      for (auto& [id, o] : conns)
        if (o->am_choking && o->peer_interested && o->handshaken()) return rechoke(Clock::now());
  }
  void handle(PeerConnection& c, const wire::ErrorMsg& e, std::span<const std::uint8_t>) {
    std::string why = fmt::format("peer reported {}: {}", e.code, e.message);
    if (e.code == "info_hash_mismatch" || e.code == "version_mismatch" || e.code == "self_connection")
      if (auto it = addr_of.find(c.id()); it != addr_of.end() && c.outgoing()) dir.refuse_forever(it->second, why);
    c.close(why);
  }
  void handle(PeerConnection& c, const wire::Pex& p, std::span<const std::uint8_t>) {
    if (!pex[c.id()].accept_incoming(Clock::now())) return;  // too frequent: ignored
    if (!complete) add_peers(p.added, PeerDirectory::Source::pex);
  }
  void handle(PeerConnection&, const wire::KeepAlive&, std::span<const std::uint8_t>) {}
  void handle(PeerConnection&, const wire::Handshake&, std::span<const std::uint8_t>) {}
  void handle(PeerConnection&, const wire::Piece&, std::span<const std::uint8_t>) {}

  void check_block_bounds(std::uint32_t piece, std::uint32_t begin, std::uint32_t length, const char* what) {
    if (piece >= meta.piece_count())
      throw wire::ProtocolError(fmt::format("{} for piece {} of {}", what, piece, meta.piece_count()));
    std::uint32_t plen = meta.piece_length(piece);
    if (length == 0 || length > limits::kMaxBlockSize || begin > plen || length > plen - begin)
      throw wire::ProtocolError(
          fmt::format("{} for bytes {}+{} of piece {} ({} bytes)", what, begin, length, piece, plen));
  }

  // Only one connection at a time may be reading a given block into the piece buffer:
  // a second copy (endgame) is discarded, so no bytes change under a piece being hashed.
  std::span<std::uint8_t> block_destination(PeerConnection& c, const wire::Piece& p, std::uint32_t len) override {
    check_block_bounds(p.piece, p.begin, len, "piece");
    BlockRef b{p.piece, p.begin, len};
    if (std::find(c.outstanding.begin(), c.outstanding.end(), b) == c.outstanding.end())
      return {};  // unrequested or cancelled: read and drop
    if (!picker.wants_block(b) || receiving.count({b.piece, b.begin})) return {};  // someone else has it
    auto f = inflight.find(p.piece);
    if (f == inflight.end()) return {};
    receiving[{b.piece, b.begin}] = c.id();
    c.receiving = b;
    f->second.sources.insert(c.peer_key());
    auto& bs = f->second.block_source;
    bs.resize((meta.piece_length(p.piece) + limits::kBlockSize - 1) / limits::kBlockSize);
    bs[p.begin / limits::kBlockSize] = c.peer_key();
    return std::span(f->second.data.data() + p.begin, len);
  }

  void on_block(PeerConnection& c, const BlockRef& b, bool stored) override {
    stats.downloaded_bytes += b.length;
    if (auto it = std::find(c.outstanding.begin(), c.outstanding.end(), b); it != c.outstanding.end())
      c.outstanding.erase(it);
    if (stored) {
      receiving.erase({b.piece, b.begin});
      c.receiving.reset();
    } else {
      stats.wasted_bytes += b.length;
      request_more(c);
      return;
    }
    bool done = false;
    std::vector<PiecePicker::PeerKey> others;
    picker.block_received(b, c.id(), done, others);
    for (auto k : others) {
      auto oc = conns.find(k);
      if (oc == conns.end()) continue;
      auto& out = oc->second->outstanding;
      if (auto it = std::find(out.begin(), out.end(), b); it != out.end()) {
        out.erase(it);
        oc->second->send(wire::Cancel{b.piece, b.begin, b.length});
      }
    }
    if (done) hash_piece(b.piece);
    request_more(c);
  }

  BlockSource block_source(PeerConnection&, const wire::Request& r) override {
    if (!store.has(r.piece)) return {};
    stats.uploaded_bytes += r.length;
    return BlockSource{store.file().fd(), meta.piece_offset(r.piece) + r.begin};
  }

  void on_closed(PeerConnection& c, const std::string& why) override {
    auto found = conns.find(c.id());
    if (found == conns.end()) return;
    auto keep = found->second;  // keeps c alive until we are done with it
    conns.erase(found);
    if (c.handshaken()) picker.remove_peer(c.peer_has);
    if (c.receiving) receiving.erase({c.receiving->piece, c.receiving->begin});  // died mid-block
    if (!stopping) score_close(c, why);
    drop_requests(c);
    pex.erase(c.id());
    if (auto it = addr_of.find(c.id()); it != addr_of.end()) {
      auto addr = it->second;
      addr_of.erase(it);
      if (!c.outgoing()) {
        dir.incoming_closed(addr);
      } else if (!stopping) {
        // A connection that delivered data proves the peer works; others count as failures.
        bool useful = c.bytes_downloaded > 0 && why.rfind("stalled", 0) != 0;
        dir.closed(addr, useful, why, Clock::now());
        if (useful || complete) observer.on_event("peer_dropped", fmt::format("{}: {}", c.label(), why));
        else report_failure(addr);
      }
    } else if (c.handshaken() && !stopping) {
      observer.on_event("peer_dropped", fmt::format("{}: {}", c.label(), why));
    }
    // Re-issue what that peer owed us to everyone else.
    for (auto& [id, other] : conns) request_more(*other);
  }

  // ---- requesting ----------------------------------------------------------------

  void drop_requests(PeerConnection& c) {
    for (const auto& b : c.outstanding) picker.request_dropped(b, c.id());
    c.outstanding.clear();
    release_abandoned_buffers();
  }

  void release_abandoned_buffers() {
    for (auto it = inflight.begin(); it != inflight.end();) {
      if (!piece_started(it->first)) {
        recycle(std::move(it->second.data));
        it = inflight.erase(it);
      } else {
        ++it;
      }
    }
  }

  // The picker drops a piece back to "wanted" when nobody works on it; we free its buffer then.
  bool piece_started(std::uint32_t piece) const {
    // wants_block is false for received blocks and for pieces not in progress.
    for (std::uint32_t begin = 0; begin < meta.piece_length(piece); begin += limits::kBlockSize)
      if (picker.wants_block(BlockRef{piece, begin, std::min(limits::kBlockSize, meta.piece_length(piece) - begin)}))
        return true;
    return false;
  }

  // Piece buffers are recycled, never freed mid-run: fresh allocations of this
  // size are mmapped, and faulting their pages in again costs more than the copy.
  // Their number is bounded by kMaxPiecesInFlightBytes.
  std::vector<std::uint8_t> take_buffer() {
    std::vector<std::uint8_t> buf;
    if (!spare_buffers.empty()) {
      buf = std::move(spare_buffers.back());
      spare_buffers.pop_back();
    } else {
      buf.resize(meta.piece_size);
    }
    inflight_bytes += meta.piece_size;
    return buf;
  }
  void recycle(std::vector<std::uint8_t> buf) {
    inflight_bytes -= meta.piece_size;
    spare_buffers.push_back(std::move(buf));
  }

  void request_more(PeerConnection& c) {
    if (complete || stopping || !c.open() || !c.handshaken() || c.peer_choking || !c.am_interested) return;
    std::size_t depth = std::max<std::size_t>(1, kPipelineBytes / limits::kBlockSize);
    if (c.outstanding.size() >= depth) return;
    bool room = inflight_bytes + meta.piece_size <= std::max<std::size_t>(limits::kMaxPiecesInFlightBytes, 2 * meta.piece_size);
    bool was_idle = c.outstanding.empty();
    // Endgame duplicates go only to idle connections, two at a time: enough to
    // finish past a slow peer without fetching the tail of the file twice.
    std::size_t duplicates = c.outstanding.empty() ? 2 : 0;
    auto blocks = picker.pick(c.peer_has, depth - c.outstanding.size(), c.id(), room, duplicates);
    for (const auto& b : blocks) {
      if (!inflight.count(b.piece)) inflight[b.piece].data = take_buffer();
      c.outstanding.push_back(b);
      c.send(wire::Request{b.piece, b.begin, b.length});
    }
    if (was_idle && !blocks.empty()) c.last_block = Clock::now();  // the stall clock starts now
  }

  // ---- verifying -------------------------------------------------------------------

  void hash_piece(std::uint32_t piece) {
    auto node = inflight.extract(piece);
    if (node.empty()) return;
    ++hashing;
    auto job = std::make_shared<InFlight>(std::move(node.mapped()));
    asio::post(hashers, [this, piece, job] {
      std::span<const std::uint8_t> bytes(job->data.data(), meta.piece_length(piece));
      bool ok = sha256(bytes) == meta.pieces[piece];
      if (!ok && job->sources.size() > 1) job->block_hashes = SmartBan::block_hashes(bytes, limits::kBlockSize);
      std::exception_ptr err;
      if (ok) {
        try {
          store.write_piece(piece, bytes);
        } catch (...) {
          err = std::current_exception();
        }
      }
      asio::post(io, [this, piece, job, ok, err] { piece_checked(piece, std::move(*job), ok, err); });
    });
  }

  void piece_checked(std::uint32_t piece, InFlight job, bool ok, std::exception_ptr err) {
    --hashing;
    auto now = std::chrono::system_clock::now();
    if (ok) {
      for (const auto& key : job.sources) reputation.record(key, Reputation::Event::delivered, "", now);
      if (smart_ban.suspected(piece)) {
        auto good = SmartBan::block_hashes(std::span<const std::uint8_t>(job.data.data(), meta.piece_length(piece)),
                                           limits::kBlockSize);
        for (const auto& liar : smart_ban.piece_verified(piece, good))
          ban(liar, fmt::format("sent a corrupt block of piece {} (smart ban: compared with a good copy)", piece));
      }
    }
    recycle(std::move(job.data));
    if (err) return fail(err);
    if (!ok) {
      ++stats.bad_pieces;
      stats.wasted_bytes += meta.piece_length(piece);
      picker.piece_failed(piece);
      std::string from = fmt::format("{}", fmt::join(job.sources, ", "));
      observer.on_event("bad_piece", fmt::format("piece {} failed its hash check (data from {}); fetching it again",
                                                 piece, from.empty() ? "?" : from));
      if (job.sources.size() == 1) {
        ban(*job.sources.begin(), fmt::format("sent corrupt data for piece {}", piece));
      } else if (!job.sources.empty()) {
        smart_ban.piece_failed(piece, std::move(job.block_hashes), std::move(job.block_source));
      }
    } else {
      store.mark_verified(piece);
      picker.piece_verified(piece);
      if (verifier) verifier->piece_verified(piece);
      state_dirty = true;
      for (auto& [id, c] : conns)
        if (c->handshaken()) c->send(wire::Have{piece});
      if (picker.complete()) on_all_pieces();
    }
    for (auto& [id, c] : std::map(conns)) {
      if (ok && c->am_interested) set_interest(*c);
      request_more(*c);
    }
  }

  // Records a ban for this run's summary and stops dialling that peer.
  void note_ban(const std::string& key, const std::string& reason) {
    if (banned.count(key)) return;
    banned[key] = reason;
    for (auto& [id, c] : conns)
      if (c->peer_key() == key)
        if (auto it = addr_of.find(id); it != addr_of.end()) dir.ban(it->second, reason);
    observer.on_event("banned", fmt::format("{}: {}", key, reason));
  }

  void ban(const std::string& key, const std::string& reason) {
    reputation.ban(key, reason, std::chrono::system_clock::now());
    note_ban(key, reason);
    for (auto& [id, c] : std::map(conns))
      if (c->peer_key() == key) c->close("banned: " + reason);
  }

  // Scores what a closing connection did wrong; the peer is banned if its score drops too low.
  void score_close(PeerConnection& c, const std::string& why) {
    if (!c.handshaken()) return;
    Reputation::Event e;
    if (why.rfind("protocol violation", 0) == 0) e = Reputation::Event::violation;
    else if (why.rfind("stalled", 0) == 0 || why.rfind("sent nothing we asked", 0) == 0) e = Reputation::Event::timeout;
    else return;
    if (reputation.record(c.peer_key(), e, why, std::chrono::system_clock::now()))
      note_ban(c.peer_key(), reputation.find(c.peer_key())->reason);
  }

  void on_all_pieces() {
    if (complete) return;
    complete = true;
    Digest whole = verifier->wait_result();
    if (whole != meta.file_hash) {
      fail(std::make_exception_ptr(Error(
          ExitCode::verify_failed,
          fmt::format("{}: every piece matched but the whole-file SHA-256 is {} instead of {}; kept as .partial",
                      store.partial_path().string(), to_hex(whole), to_hex(meta.file_hash)))));
      return;
    }
    try {
      store.save_state();
      store.finish();
    } catch (...) {
      return fail(std::current_exception());
    }
    completed_at = Clock::now();
    if (announcer) announcer->completed();
    for (auto& [id, c] : std::map(conns)) {
      drop_requests(*c);
      set_interest(*c);
    }
    if (!opt.keep_seeding) shutdown();
  }

  // ---- housekeeping ------------------------------------------------------------------

  asio::awaitable<void> ticker() {
    asio::steady_timer t(io);
    while (!stopping) {
      t.expires_after(kTick);
      co_await t.async_wait(kTuple);
      if (stopping) break;
      try {
        tick();
      } catch (...) {
        fail(std::current_exception());
      }
    }
  }

  void tick() {
    auto now = Clock::now();
    for (auto& [id, c] : std::map(conns)) {
      if (!c->handshaken() && now - c->created > limits::kHandshakeTimeout) {
        c->close("handshake timed out");
      } else if (!c->outstanding.empty() && now - c->last_block > limits::kRequestTimeout) {
        c->close(fmt::format("stalled: no data for {} s with {} requests outstanding",
                             std::chrono::duration_cast<std::chrono::seconds>(limits::kRequestTimeout).count(),
                             c->outstanding.size()));
      } else if (now - c->last_received > limits::kIdleTimeout) {
        c->close("idle for too long");
      } else if (c->am_interested && now - c->last_block > limits::kIdleTimeout) {
        c->close("sent nothing we asked for in too long (choked or stalled)");
      } else if (now - c->last_sent > limits::kKeepAliveInterval) {
        c->send(wire::KeepAlive{});
      }
    }
    maintain_dials();
    if (choker.due(now)) rechoke(now);
    send_pex(now);
    if (now - last_save >= limits::kStateSaveInterval) {
      if (state_dirty) save_state();
      else reputation.flush();
      last_save = now;
    }
    if (now - last_progress >= std::chrono::seconds(1)) report_progress();
    if (announcer)
      announcer->set_progress(meta.size - store.verified_bytes(), stats.uploaded_bytes, stats.downloaded_bytes);
    if (complete && opt.keep_seeding && opt.seed_time && now - completed_at >= *opt.seed_time) shutdown();
    check_hope(now);
  }

  // Gives up when no peer can be reached any more. With a tracker, waits a while for new peers.
  void check_hope(Clock::time_point now) {
    if (complete || !conns.empty() || dir.any_hope() || hashing > 0) {
      hopeless_since = {};
      return;
    }
    if (hopeless_since == Clock::time_point{}) hopeless_since = now;
    if (announcer && now - hopeless_since < kWaitForTrackerPeers) return;
    std::string why = dir.failure_summary();
    for (auto& [key, reason] : banned) why += fmt::format("; {} banned ({})", key, reason);
    if (announcer) why += fmt::format("; the tracker offered no other peer in {} s", kWaitForTrackerPeers.count());
    fail(std::make_exception_ptr(Error(ExitCode::peers_failed,
                                       fmt::format("no peer can supply the rest of {} ({} of {} pieces verified): {}",
                                                   meta.name, picker.have_count(), meta.piece_count(), why))));
  }

  void rechoke(Clock::time_point now) {
    std::map<std::string, Choker::Peer> peers;
    for (auto& [id, c] : conns) {
      if (!c->handshaken()) continue;
      auto& p = peers[c->peer_key()];
      p.key = c->peer_key();
      p.interested |= c->peer_interested;
      p.rate_from += c->sample_download_rate();
    }
    std::vector<Choker::Peer> list;
    for (auto& [k, p] : peers) list.push_back(p);
    auto unchoke = choker.rechoke(list, complete || store.complete(), now);
    for (auto& [id, c] : conns) {
      if (!c->handshaken()) continue;
      bool should_choke = !unchoke.count(c->peer_key());
      if (should_choke == c->am_choking) continue;
      c->am_choking = should_choke;
      if (should_choke) {
        c->clear_uploads();  // a choke discards their pending requests
        c->send(wire::Choke{});
      } else {
        c->send(wire::Unchoke{});
      }
    }
  }

  // Gossip: tell each peer about the others we are connected to (changes only, rate-limited).
  void send_pex(Clock::time_point now) {
    std::set<wire::PeerAddress> known;
    for (auto& [id, a] : addr_of)
      if (conns.count(id) && conns[id]->handshaken()) known.insert(a);
    for (auto& [id, c] : conns) {
      if (!c->handshaken()) continue;
      auto others = known;
      if (auto it = addr_of.find(id); it != addr_of.end()) others.erase(it->second);
      if (auto msg = pex[id].next(others, now)) c->send(*msg);
    }
  }

  void save_state() {
    reputation.flush();
    store.save_state();
    state_dirty = false;
    last_save = Clock::now();
  }

  void report_progress() {
    auto now = Clock::now();
    double dt = last_progress == Clock::time_point{} ? std::chrono::duration<double>(now - started).count()
                                                     : std::chrono::duration<double>(now - last_progress).count();
    last_progress = now;
    fill_stats();
    if (dt > 0) {
      double down = static_cast<double>(stats.downloaded_bytes - last_down) / dt;
      double up = static_cast<double>(stats.uploaded_bytes - last_up) / dt;
      stats.download_rate = stats.download_rate == 0 ? down : 0.5 * stats.download_rate + 0.5 * down;
      stats.upload_rate = stats.upload_rate == 0 ? up : 0.5 * stats.upload_rate + 0.5 * up;
    }
    last_down = stats.downloaded_bytes;
    last_up = stats.uploaded_bytes;
    observer.on_progress(stats);
  }

  void fill_stats() {
    stats.verified_bytes = store.verified_bytes();
    stats.pieces_verified = store.verified().count();
    stats.peers = 0;
    for (auto& [id, c] : conns) stats.peers += c->handshaken();
    stats.elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  }

  SwarmOutcome run() {
    // sendfile(2) has no MSG_NOSIGNAL: a peer that vanishes mid-block would otherwise
    // kill the whole process with SIGPIPE instead of failing one send with EPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([this](std::error_code ec, int) {
      if (ec) return;
      interrupted = true;
      shutdown();
    });
    if (opt.listen_port) listen();
    if (!opt.trackers.empty()) {
      announcer = std::make_unique<Announcer>(
          opt.trackers, meta.info_hash, peer_id, listen_port,
          [this](std::vector<wire::PeerAddress> peers) {
            asio::post(io, [this, peers = std::move(peers)] {
              if (!complete && !stopping) add_peers(peers, PeerDirectory::Source::tracker);
            });
          },
          [this](const std::string& text) { asio::post(io, [this, text] { observer.on_event("tracker", text); }); });
      announcer->set_progress(meta.size - store.verified_bytes(), 0, 0);
    }
    if (!store.is_source()) verifier = std::make_unique<WholeFileVerifier>(meta, store.file(), store.verified());
    if (store.complete()) {
      if (store.is_source()) complete = true;
      else on_all_pieces();  // resumed with every piece: only the final check and rename remain
    }
    if (!stopping && (!complete || opt.keep_seeding || acceptor)) {
      maintain_dials();
      asio::co_spawn(io, ticker(), asio::detached);
      io.run();
    }
    if (announcer) announcer->stop();  // "stopped" to each tracker, bounded
    // Drain the hash pool so no piece is half-recorded, then record what is verified.
    while (hashing > 0) {
      io.restart();
      io.run_one();
    }
    SwarmOutcome out;
    out.complete = complete && !fatal;
    out.interrupted = interrupted;
    if (!out.complete) {
      try {
        if (!store.complete() || fatal) save_state();
      } catch (...) {
        if (!fatal) fatal = std::current_exception();
      }
    }
    if (fatal) std::rethrow_exception(fatal);
    fill_stats();
    stats.download_rate = stats.elapsed > 0 ? static_cast<double>(stats.downloaded_bytes) / stats.elapsed : 0;
    out.stats = stats;
    for (auto& [key, reason] : banned) out.banned.push_back(fmt::format("{} ({})", key, reason));
    return out;
  }
};

Swarm::Swarm(const Meta& meta, PieceStore& store, SwarmOptions options, SwarmObserver& observer)
    : impl_(std::make_unique<Impl>(meta, store, std::move(options), observer)) {}
Swarm::~Swarm() = default;
SwarmOutcome Swarm::run() { return impl_->run(); }

}  // namespace p2p
