// Torrent against a fake TorrentHost (swarm/torrent_host.hpp): what a torrent asks of
// the process, with no session and no socket. The dials it starts are never run.
#include <asio/executor_work_guard.hpp>
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include "base/hash_pool.hpp"
#include "storage/meta_creation.hpp"
#include "storage/piece_store.hpp"
#include "swarm/piece_buffer_pool.hpp"
#include "swarm/reputation.hpp"
#include "swarm/torrent.hpp"
#include "test_support.hpp"

using namespace p2p;

namespace {

class FakeTorrentHost final : public TorrentHost {
 public:
  asio::io_context context;
  PieceBufferPool pool{8 << 20};
  Reputation scores;  // in memory
  SessionCounters totals;
  Clock::time_point clock = Clock::now();
  WallClock::time_point wall = WallClock::now();
  std::string id = "fake-host-peer-id";
  std::size_t budget = 64;
  mutable std::vector<std::string> room_asked;  // address_has_room, in order
  int finished_reports = 0;
  std::vector<std::pair<EventKind, std::string>> events;

  asio::io_context& io() override { return context; }
  HashPool& hashers() override { return HashPool::shared(); }
  PieceBufferPool& buffers() override { return pool; }
  Reputation& reputation() override { return scores; }
  SessionCounters& counters() override { return totals; }
  SessionObserver& observer() override { return recorder_; }
  void note_piece_timing(double, double) override {}
  Clock::time_point now() const override { return clock; }
  WallClock::time_point wall_now() const override { return wall; }
  const std::string& peer_id() const override { return id; }
  std::uint16_t listen_port() const override { return 0; }
  std::uint16_t announced_port() const override { return 0; }
  bool came_through_mapping(const std::string&) const override { return false; }
  bool lan_discovery() const override { return false; }
  std::size_t dial_budget() const override { return budget; }
  bool address_has_room(const std::string& ip) const override {
    room_asked.push_back(ip);
    return true;
  }
  std::optional<asio::ip::tcp::endpoint> outgoing_endpoint() const override { return std::nullopt; }
  TlsContext* tls() override { return nullptr; }
  std::shared_ptr<PeerConnection> open_connection(PeerStream, ConnectionHandler&, std::optional<wire::Handshake>) override {
    FAIL("the torrent opened a connection");
    return nullptr;
  }
  ConnectionHandler& incoming_handler() override {
    FAIL("the torrent asked for the incoming handler");
    throw std::logic_error("unreachable");
  }
  void forget_connection(PeerConnection&) override {}
  bool inbound_refused(const std::string&) const override { return false; }
  void note_inbound_ban(const std::string&) override {}
  void tracker_answered(const std::string&, const tracker_client::AnnounceResponse&) override {}
  std::uint16_t relay_port(const std::string&) const override { return 0; }
  bool stopping() const override { return false; }
  void torrent_finished() override { ++finished_reports; }

  bool saw(EventKind kind, const std::string& part) const {
    for (const auto& [k, text] : events)
      if (k == kind && text.find(part) != std::string::npos) return true;
    return false;
  }

 private:
  struct Recorder final : SessionObserver {
    FakeTorrentHost& host;
    explicit Recorder(FakeTorrentHost& h) : host(h) {}
    void on_listening(const std::string&, std::uint16_t) override {}
    void on_event(const std::string&, EventKind kind, const std::string& text) override {
      host.events.emplace_back(kind, text);
    }
    void on_progress(const TorrentStats&) override {}
  } recorder_{*this};
};

// A 4-piece file and its download folder.
struct HostedDownload {
  test::TempDir dir;
  std::string content = test::random_bytes(3 * 16384 + 100, 77);
  std::shared_ptr<const Meta> meta;
  explicit HostedDownload(bool whole_file_hash) {
    test::write_file(dir / "data.bin", content);
    meta = std::make_shared<const Meta>(create_meta(dir / "data.bin", 16384, {}, whole_file_hash));
  }
  PieceStore store(bool with_every_piece) const {
    PieceStore::ResumeReport r;
    PieceStore s = PieceStore::open_partial(*meta, dir / "dl", r);
    if (with_every_piece)
      for (std::uint32_t i = 0; i < meta->piece_count(); ++i) {
        s.write_piece(i, std::span(reinterpret_cast<const std::uint8_t*>(content.data()) + meta->piece_offset(i),
                                   meta->piece_length(i)));
        s.mark_verified(i);
      }
    return s;
  }
};

// Runs the host's io context until `done()` or about 5 s have passed (the verifier's
// thread posts its result there).
template <class Done>
void run_until(FakeTorrentHost& host, Done done) {
  auto guard = asio::make_work_guard(host.context);
  for (int i = 0; i < 500 && !done(); ++i) host.context.run_one_for(std::chrono::milliseconds(10));
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("a torrent tells its host once that it is finished", "[torrent_host]") {
  bool whole_file_hash = GENERATE(false, true);
  HostedDownload d(whole_file_hash);
  FakeTorrentHost host;
  PieceStore store = d.store(true);
  auto final_path = store.final_path();
  Torrent t(host, d.meta, std::move(store), TorrentOptions{});
  t.start();
  // With a whole-file hash the check runs on the verifier's thread and its result is
  // posted back: start() neither waits for it nor finishes the file itself.
  if (whole_file_hash) {
    CHECK(t.state() == Torrent::State::running);
    CHECK(host.finished_reports == 0);
    CHECK(t.hashing() == 1);  // the session drains it like a piece being hashed
  }
  run_until(host, [&] { return t.state() == Torrent::State::complete; });
  CHECK(t.hashing() == 0);
  REQUIRE(t.state() == Torrent::State::complete);
  CHECK(host.finished_reports == 1);
  CHECK(read_all(final_path) == d.content);
  CHECK(host.room_asked.empty());  // nothing to dial
  t.stop("shutting down");
  CHECK(host.finished_reports == 1);  // finished already: not reported again
  CHECK(t.outcome().complete);
}

TEST_CASE("a download stopped during its whole-file check still ends complete", "[torrent_host]") {
  HostedDownload d(true);
  FakeTorrentHost host;
  PieceStore store = d.store(true);
  auto final_path = store.final_path();
  Torrent t(host, d.meta, std::move(store), TorrentOptions{});
  t.start();
  t.stop("shutting down");  // before the check's result is back
  run_until(host, [&] { return t.hashing() == 0; });
  REQUIRE(t.hashing() == 0);
  CHECK(t.state() == Torrent::State::stopped);
  CHECK(t.outcome().complete);
  CHECK(read_all(final_path) == d.content);
}

TEST_CASE("a torrent still downloading does not report itself finished", "[torrent_host]") {
  HostedDownload d(false);
  FakeTorrentHost host;
  Torrent t(host, d.meta, d.store(false), TorrentOptions{});
  t.start();
  host.context.poll();
  CHECK(t.state() == Torrent::State::running);
  CHECK(host.finished_reports == 0);
  t.stop("user asked");
  CHECK(host.finished_reports == 1);
}

TEST_CASE("a torrent asks its host's reputation before dialling and reports bans to it", "[torrent_host]") {
  HostedDownload d(false);
  FakeTorrentHost host;
  host.scores.ban("127.0.0.1:7001", "sent corrupt data for piece 3", host.wall);
  Torrent t(host, d.meta, d.store(false), TorrentOptions{});
  t.start();
  t.learn_peers({{"127.0.0.1", 7001}, {"127.0.0.1", 7002}, {"127.0.0.1", 7003}}, PeerDirectory::Source::lan, "127.0.0.1");
  // The banned address is not dialled: the host's budgets are asked only for the others.
  CHECK(host.room_asked == std::vector<std::string>{"127.0.0.1", "127.0.0.1"});
  CHECK(host.totals.peers_banned == 1);
  CHECK(host.saw(EventKind::banned, "127.0.0.1:7001: sent corrupt data for piece 3"));
  auto snap = t.snapshot();
  REQUIRE(snap.banned.size() == 1);
  CHECK(snap.banned[0].peer == "127.0.0.1:7001");
}

TEST_CASE("a torrent dials no more than its host's dial budget", "[torrent_host]") {
  HostedDownload d(false);
  FakeTorrentHost host;
  host.budget = 2;
  TorrentOptions o;
  for (std::uint16_t port = 7101; port <= 7105; ++port) o.peers.push_back({"127.0.0.1", port});
  Torrent t(host, d.meta, d.store(false), o);
  t.start();
  CHECK(host.room_asked.size() == 2);
  host.budget = 0;
  host.clock += std::chrono::seconds(1);
  t.tick(host.clock);
  CHECK(host.room_asked.size() == 2);  // no budget left: no dial
}
