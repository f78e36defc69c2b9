// Private swarms in-process on loopback: a TLS download between two sessions, and the
// refusals — plaintext handshake for a private swarm, wrong key, no key (a public seeder
// of the same file), and a peer that answers a private dial in plaintext (downgrade).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <thread>

#include "base/limits.hpp"
#include "format/wire.hpp"
#include "storage/meta_creation.hpp"
#include "swarm/session.hpp"
#include "session_harness.hpp"
#include "test_support.hpp"

using namespace p2p;
using test::dial;
using test::make_file;
using test::Recorder;
using test::SeederThread;

namespace {

TorrentOutcome download(std::shared_ptr<const Meta> meta, const std::filesystem::path& dir, std::uint16_t port,
                        Recorder& rec) {
  Session downloader(SessionOptions{}, rec);
  TorrentOptions to;
  to.peers = {wire::PeerAddress{"127.0.0.1", port}};
  to.give_up_after = std::chrono::seconds(3);
  PieceStore::ResumeReport rr;
  downloader.add_torrent(meta, PieceStore::open_partial(*meta, dir, rr), to);
  auto out = downloader.run();
  REQUIRE(out.torrents.size() == 1);
  return out.torrents[0];
}

}  // namespace

TEST_CASE("a private swarm downloads over TLS between two sessions, byte-identical", "[session][private]") {
  test::TempDir dir;
  auto f = make_file(dir, "secret.bin", 700 * 1024 + 11, 1, true);
  SeederThread seeder({f});
  Recorder rec;
  auto out = download(f.meta, dir / "dl", seeder.port(), rec);
  CHECK(out.complete);
  CHECK_FALSE(out.error);
  CHECK(read_small_file(dir / "dl" / "secret.bin", 1u << 24) == read_small_file(f.path, 1u << 24));
}

TEST_CASE("a private download of many blocks over TLS fills the sockets and stays byte-identical", "[session][private]") {
  // Big enough that both sides' TLS calls find the socket full or empty many times over
  // (waits on readiness and retried writes, reads and writes interleaved on one thread).
  test::TempDir dir;
  auto f = make_file(dir, "big.bin", 24 * 1024 * 1024 + 7, 6, true);
  SeederThread seeder({f});
  Recorder rec;
  auto out = download(f.meta, dir / "dl", seeder.port(), rec);
  CHECK(out.complete);
  CHECK_FALSE(out.error);
  CHECK(read_small_file(dir / "dl" / "big.bin", 1u << 26) == read_small_file(f.path, 1u << 26));
}

TEST_CASE("a plaintext handshake naming a private swarm is refused with encryption_required, nothing else",
          "[session][private]") {
  test::TempDir dir;
  auto f = make_file(dir, "secret.bin", 64 * 1024, 2, true);
  SeederThread seeder({f});
  int fd = dial(seeder.port());
  std::string hs = wire::encode(wire::Handshake{wire::kProtocolVersion, f.meta->info_hash, std::string(40, 'c'), 0});
  REQUIRE(::send(fd, hs.data(), hs.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(hs.size()));
  // Everything the seeder sends before hanging up: exactly one error frame.
  std::vector<std::uint8_t> got, buf(4096);
  for (ssize_t n; (n = ::recv(fd, buf.data(), buf.size(), 0)) > 0;) got.insert(got.end(), buf.begin(), buf.begin() + n);
  ::close(fd);
  wire::FrameDecoder dec;
  dec.feed(got);
  auto frame = dec.next();
  REQUIRE(frame);
  auto* e = std::get_if<wire::ErrorMsg>(&frame->message);
  REQUIRE(e);
  CHECK(wire::parse_error_code(e->code) == wire::ErrorCode::encryption_required);
  CHECK_FALSE(dec.next());
  for (int i = 0; i < 100 && seeder.rec.all().find("plaintext handshake") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(seeder.rec.all().find("refused a plaintext handshake for private swarm") != std::string::npos);
}

TEST_CASE("a downloader with the wrong swarm key is refused on both sides and writes nothing", "[session][private]") {
  test::TempDir dir;
  auto f = make_file(dir, "secret.bin", 200 * 1024, 3, true);
  SeederThread seeder({f});
  Meta wrong = *f.meta;
  wrong.swarm_key[5] ^= 0x40;  // same info hash, another key
  Recorder rec;
  auto out = download(std::make_shared<const Meta>(wrong), dir / "dl", seeder.port(), rec);
  CHECK_FALSE(out.complete);
  REQUIRE(out.error);
  CHECK(out.error->code() == ExitCode::peers_failed);
  CHECK(rec.all().find("refused our swarm key") != std::string::npos);
  CHECK(out.stats.downloaded_bytes == 0);
  CHECK_FALSE(std::filesystem::exists(dir / "dl" / "secret.bin"));
  for (int i = 0; i < 100 && seeder.rec.all().find("swarm key we do not hold") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(seeder.rec.all().find("swarm key we do not hold") != std::string::npos);
}

TEST_CASE("no key: a public seeder of the same bytes and a private downloader never connect", "[session][private]") {
  test::TempDir dir;
  auto pub = make_file(dir, "same.bin", 100 * 1024, 4, false);
  auto priv = std::make_shared<const Meta>(create_meta(pub.path, 16 * 1024, {}, false, true));
  SeederThread seeder({pub});
  Recorder rec;
  auto out = download(priv, dir / "dl", seeder.port(), rec);
  CHECK_FALSE(out.complete);
  CHECK(out.stats.downloaded_bytes == 0);
  CHECK_FALSE(std::filesystem::exists(dir / "dl" / "same.bin"));
  CHECK(rec.all().find("refused our swarm key") != std::string::npos);
}

TEST_CASE("a peer answering a private dial in plaintext (downgrade) is refused", "[session][private]") {
  test::TempDir dir;
  auto f = make_file(dir, "secret.bin", 64 * 1024, 5, true);
  // A listener that answers whatever it is sent with a plaintext handshake for the private swarm.
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(lfd, 4) == 0);
  REQUIRE(::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  std::atomic<bool> got_client_hello{false};
  std::thread peer([&] {
    int c = ::accept(lfd, nullptr, nullptr);
    if (c < 0) return;
    std::uint8_t first = 0;
    if (::recv(c, &first, 1, 0) == 1) got_client_hello = first == 0x16;
    std::string hs = wire::encode(wire::Handshake{wire::kProtocolVersion, f.meta->info_hash, std::string(40, 'd'), 0});
    ::send(c, hs.data(), hs.size(), MSG_NOSIGNAL);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::close(c);
  });
  Recorder rec;
  auto out = download(f.meta, dir / "dl", ntohs(a.sin_port), rec);
  peer.join();
  ::close(lfd);
  CHECK(got_client_hello);  // the private downloader spoke TLS first, never a plaintext handshake
  CHECK_FALSE(out.complete);
  CHECK(rec.all().find("answered in plaintext") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "dl" / "secret.bin"));
}
