// Attacks a p2p-share peer the way a hostile client would, then checks that the
// peer hung up on it. Exit 0: the peer closed the connection (as it must);
// 1: it kept talking to us; 2: could not connect / usage.
//   huge-prefix  a 4 GiB header length
//   garbage      random bytes after a valid handshake
//   bad-index    a request for a piece that does not exist
//   past-end     a request beyond the end of a piece
//   flood        thousands of requests without reading the answers
//   bad-have     a have for a piece past the end
//   bad-bitfield a bitfield of the wrong size
//   (each of these on one connection, or --repeat N of them one after another)
//   idle N       opens N connections that never say anything; holds them for --hold seconds
//   idle-handshake N  the same, each completing a handshake (a distinct peer id) first; with
//                --sources K spread over K source addresses from --from up; prints how many
//                the peer still held open at the end ("still open M"); with --churn each one
//                the peer closes is opened again (and handshaken) at once; with --bitfield
//                each also sends an empty bitfield (a peer that lacks everything), then never
//                requests what it is shown
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/bitfield.hpp"
#include "format/meta.hpp"
#include "format/wire.hpp"

using namespace p2p;

namespace {
int connect_to(const std::string& host, int port, const std::string& from) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (!from.empty()) {
    sockaddr_in src{};
    src.sin_family = AF_INET;
    ::inet_pton(AF_INET, from.c_str(), &src.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) return -1;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void send_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return;  // they may hang up mid-flood: that is the point
    done += static_cast<std::size_t>(n);
  }
}

// Reads and discards until the peer closes (true) or `seconds` pass (false).
bool closed_within(int fd, double seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<char> buf(65536);
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) return true;
  }
  return false;
}

// One connection that makes `attack`: 0 if the peer closed it, 1 if it kept talking, 2 if
// it could not be made.
int attack_once(const Meta& meta, const std::string& attack, const std::string& host, int port,
                const std::string& from, std::uint16_t claim_port) {
  int fd = connect_to(host, port, from);
  if (fd < 0) return 2;
  wire::Handshake hs{wire::kProtocolVersion, meta.info_hash, std::string(40, 'e'), claim_port};
  std::string out;
  if (attack == "huge-prefix") {
    out = std::string("\xff\xff\xff\xff", 4) + std::string(1024, 'x');
  } else {
    out = wire::encode(hs);
    if (attack == "garbage") {
      std::mt19937 rng(99);
      std::string junk(4096, '\0');
      for (auto& c : junk) c = static_cast<char>(rng());
      out += junk;
    } else if (attack == "bad-index") {
      out += wire::encode(wire::Interested{}) + wire::encode(wire::Request{meta.piece_count() + 5, 0, 16384});
    } else if (attack == "past-end") {
      std::uint32_t last = meta.piece_count() - 1;
      out += wire::encode(wire::Interested{}) + wire::encode(wire::Request{last, meta.piece_length(last) - 10, 16384});
    } else if (attack == "flood") {
      out += wire::encode(wire::Interested{});
      send_all(fd, out);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let it unchoke us
      out.clear();
      for (int i = 0; i < 5000; ++i) out += wire::encode(wire::Request{static_cast<std::uint32_t>(i % meta.piece_count()), 0, 16384});
    } else if (attack == "bad-have") {
      out += wire::encode(wire::Have{meta.piece_count()});
    } else if (attack == "bad-bitfield") {
      std::string bits(Bitfield::byte_length(meta.piece_count()) + 3, '\xff');
      out += wire::encode(wire::BitfieldMsg{}, static_cast<std::uint32_t>(bits.size())) + bits;
    } else {
      ::close(fd);
      std::fprintf(stderr, "unknown attack %s\n", attack.c_str());
      return 2;
    }
  }
  send_all(fd, out);
  bool closed = closed_within(fd, 5);
  ::close(fd);
  return closed ? 0 : 1;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A hostile client for tests"};
  std::string meta_path, host = "127.0.0.1", attack, from;
  int port = 0, count = 1;
  double hold = 5;
  app.add_option("--meta", meta_path)->required();
  app.add_option("--host", host);
  app.add_option("--port", port)->required();
  app.add_option("--attack", attack)->required();
  app.add_option("--count", count, "connections for the idle attack");
  app.add_option("--from", from, "source address to bind (e.g. 127.0.0.2)");
  app.add_option("--hold", hold, "seconds to hold idle connections");
  std::uint16_t claim_port = 0;
  app.add_option("--claim-port", claim_port, "listen port to claim in the handshake (impersonation)");
  int sources = 1;
  app.add_option("--sources", sources, "idle-handshake: source addresses to spread over, from --from up");
  bool churn = false;
  app.add_flag("--churn", churn, "idle-handshake: reopen every connection the peer closes");
  int repeat = 1;
  app.add_option("--repeat", repeat, "single-connection attacks: make this many, one after another");
  bool bitfield = false;
  app.add_flag("--bitfield", bitfield, "idle-handshake: send an empty bitfield after the handshake");
  CLI11_PARSE(app, argc, argv);
  Meta meta = load_meta(meta_path);

  if (attack == "idle-handshake") {
    in_addr base{};
    if (from.empty() || ::inet_pton(AF_INET, from.c_str(), &base) != 1) return 2;
    int made = 0;
    auto open_one = [&](int i) {
      in_addr a{htonl(ntohl(base.s_addr) + static_cast<std::uint32_t>(i % std::max(1, sources)))};
      char text[INET_ADDRSTRLEN];
      ::inet_ntop(AF_INET, &a, text, sizeof text);
      int fd = connect_to(host, port, text);
      if (fd < 0) return -1;
      char id[41];
      std::snprintf(id, sizeof id, "%040x", ++made);
      send_all(fd, wire::encode(wire::Handshake{wire::kProtocolVersion, meta.info_hash, id, 0}));
      if (bitfield) {
        std::string none(Bitfield::byte_length(meta.piece_count()), '\0');
        send_all(fd, wire::encode(wire::BitfieldMsg{}, static_cast<std::uint32_t>(none.size())) + none);
      }
      return fd;
    };
    std::vector<int> fds;
    for (int i = 0; i < count; ++i)
      if (int fd = open_one(i); fd >= 0) fds.push_back(fd);
    std::printf("opened %zu handshaken idle connections\n", fds.size());
    std::fflush(stdout);
    // Read and drop what the peer sends (its handshake, bitfield, keep-alives); say nothing.
    std::vector<bool> open(fds.size(), true);
    std::vector<char> buf(65536);
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(hold);
    while (std::chrono::steady_clock::now() < end) {
      std::vector<pollfd> p;
      for (std::size_t i = 0; i < fds.size(); ++i)
        if (open[i]) p.push_back({fds[i], POLLIN, 0});
      if (p.empty() || ::poll(p.data(), p.size(), 100) <= 0) continue;
      for (auto& q : p) {
        if (!(q.revents & (POLLIN | POLLHUP | POLLERR))) continue;
        if (::recv(q.fd, buf.data(), buf.size(), 0) > 0) continue;
        for (std::size_t i = 0; i < fds.size(); ++i) {
          if (fds[i] != q.fd) continue;
          open[i] = false;
          if (!churn) continue;
          ::close(fds[i]);
          int fd = open_one(static_cast<int>(i));
          if (fd >= 0) fds[i] = fd, open[i] = true;
          else fds[i] = -1;
        }
      }
    }
    std::size_t still = std::count(open.begin(), open.end(), true);
    std::printf("still open %zu\nconnections made %d\n", still, made);
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
    return fds.empty() ? 2 : 0;
  }

  if (attack == "idle") {
    std::vector<int> fds;
    for (int i = 0; i < count; ++i) {
      int fd = connect_to(host, port, from);
      if (fd >= 0) fds.push_back(fd);
    }
    std::printf("opened %zu idle connections\n", fds.size());
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::duration<double>(hold));
    for (int fd : fds) ::close(fd);
    return fds.empty() ? 2 : 0;
  }

  // One attack, or --repeat of them, each on a connection of its own. Exit 1 if the peer kept
  // any open, 2 if none could be made.
  int closed = 0, kept = 0, refused = 0;
  for (int i = 0; i < repeat; ++i) {
    int r = attack_once(meta, attack, host, port, from, claim_port);
    (r == 0 ? closed : r == 1 ? kept : refused)++;
  }
  if (closed + kept == 0) return 2;
  if (repeat == 1) {
    std::printf("%s: %s\n", attack.c_str(), kept == 0 ? "peer closed the connection" : "peer kept the connection open");
  } else {
    std::printf("%s: %d connections closed by the peer, %d kept open, %d not made\n", attack.c_str(), closed, kept, refused);
  }
  return kept == 0 ? 0 : 1;
}
