// A deliberately misbehaving seeder for end-to-end tests. It speaks the real
// wire protocol (the library's codec) and then lies in one chosen way:
//   corrupt  - every block it serves has one byte flipped
//   hangup   - sends half of the first block, then closes
//   stall    - accepts requests and never answers them
//   wronghash- handshakes for a different file
//   garbage  - answers the handshake with random bytes
//   gossip   - has no piece; advertises --pex-count addresses 127.0.0.1:<--pex-port + i>
//              by peer exchange, 50 per message (the most one may hold), one message a second
// Blocking POSIX sockets, one thread per connection: simple on purpose.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <random>
#include <thread>
#include <algorithm>
#include <chrono>

#include "base/bitfield.hpp"
#include "base/file_io.hpp"
#include "format/meta.hpp"
#include "format/wire.hpp"

using namespace p2p;

namespace {
std::string mode;
Meta meta;
std::filesystem::path source;
int pex_port = 0, pex_count = 0;

bool send_all(int fd, const void* data, std::size_t n) {
  auto p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

void serve(int fd) {
  File file(source, File::Mode::read);
  wire::FrameDecoder dec;
  wire::Handshake hs{wire::kProtocolVersion, meta.info_hash, std::string(40, 'b'), 0};
  if (mode == "wronghash") hs.info_hash[0] ^= 0xff;
  if (mode == "garbage") {
    std::string junk(4096, '\0');
    std::mt19937 rng(7);
    for (auto& c : junk) c = static_cast<char>(rng());
    send_all(fd, junk.data(), junk.size());
  } else {
    std::string out = wire::encode(hs);
    Bitfield all(meta.piece_count(), mode != "gossip");
    out += wire::encode(wire::BitfieldMsg{}, static_cast<std::uint32_t>(all.bytes().size()));
    out.append(all.bytes().begin(), all.bytes().end());
    send_all(fd, out.data(), out.size());
  }
  if (mode == "gossip") {
    std::thread([fd] {
      for (int first = 0; first < pex_count; first += 50) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // peers ignore faster ones
        wire::Pex pex;
        for (int i = first; i < std::min(pex_count, first + 50); ++i)
          pex.added.push_back(wire::PeerAddress{"127.0.0.1", static_cast<std::uint16_t>(pex_port + i)});
        std::string msg = wire::encode(pex);
        if (!send_all(fd, msg.data(), msg.size())) return;
      }
    }).detach();
  }
  std::vector<std::uint8_t> buf(65536), block;
  bool first_block = true;
  for (;;) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    dec.feed(std::span(buf.data(), static_cast<std::size_t>(n)));
    try {
      while (auto f = dec.next()) {
        if (std::holds_alternative<wire::Interested>(f->message)) {
          std::string u = wire::encode(wire::Unchoke{});
          send_all(fd, u.data(), u.size());
        } else if (auto* r = std::get_if<wire::Request>(&f->message)) {
          if (mode == "stall") continue;
          block.resize(r->length);
          file.read_at(meta.piece_offset(r->piece) + r->begin, block);
          if (mode == "corrupt") block[block.size() / 2] ^= 0x5a;
          std::string h = wire::encode(wire::Piece{r->piece, r->begin}, r->length);
          send_all(fd, h.data(), h.size());
          if (mode == "hangup" && first_block) {
            send_all(fd, block.data(), block.size() / 2);
            ::close(fd);
            return;
          }
          first_block = false;
          send_all(fd, block.data(), block.size());
        }
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bad_peer: %s\n", e.what());
      break;
    }
  }
  ::close(fd);
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A misbehaving seeder for tests"};
  std::string meta_path, src;
  std::uint16_t port = 0;
  app.add_option("--meta", meta_path)->required();
  app.add_option("--source", src)->required();
  app.add_option("--port", port);
  app.add_option("--mode", mode)->required()->check(CLI::IsMember({"corrupt", "hangup", "stall", "wronghash", "garbage", "gossip"}));
  app.add_option("--pex-port", pex_port, "gossip: first advertised port");
  app.add_option("--pex-count", pex_count, "gossip: how many consecutive ports to advertise");
  CLI11_PARSE(app, argc, argv);
  meta = load_meta(meta_path);
  source = src;
  std::signal(SIGPIPE, SIG_IGN);

  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(lfd, 64) != 0) {
    std::perror("bad_peer: bind");
    return 6;
  }
  socklen_t len = sizeof addr;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::printf("listening 127.0.0.1:%u\n", ntohs(addr.sin_port));
  std::fflush(stdout);
  for (;;) {
    int fd = ::accept(lfd, nullptr, nullptr);
    if (fd < 0) continue;
    std::thread(serve, fd).detach();
  }
}
