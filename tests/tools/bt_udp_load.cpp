// BEP 15 (UDP tracker) load generator for bench/bt_tracker_bench.sh, in C++ so that the
// generator is not what is measured: SOCKETS sockets, each bound to its own loopback
// address (127.0.x.y: many clients, as a tracker sees them), each connects, then keeps
// WINDOW announces in flight over the whitelist's hashes x PEERS peer ids (the same seeded
// sequence for every tracker). One thread, epoll, recvmmsg/sendmmsg batches.
// An announce unanswered after --timeout-ms (a datagram dropped by the tracker's full
// receive buffer) is counted lost and replaced at once: a loss costs its slot 0.1 s.
// Prints "<answered announces/s> <p99 ms>" on stdout, counts of errors and losses on stderr.
//
// --reflect PORT turns it into the cheapest possible tracker (connect and an announce
// answer with no peers, no state): run against it, the generator's own ceiling shows.
// Loopback only: it refuses any other target address.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kProtocolId = 0x41727101980ULL;
constexpr int kBatch = 64;

void put32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}
void put64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
}
std::uint32_t get32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::uint64_t get64(const std::uint8_t* p) { return (std::uint64_t{get32(p)} << 32) | get32(p + 4); }

struct Rng {  // xorshift64*: the same sequence for every tracker
  std::uint64_t s;
  std::uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1DULL;
  }
};

int udp_socket(const char* bind_ip, std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  int size = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, bind_ip, &a.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// The cheapest tracker: answers connect with a fixed id and announce with no peers.
int reflect(std::uint16_t port) {
  int fd = udp_socket("127.0.0.1", port);
  if (fd < 0) {
    std::perror("bt_udp_load: bind");
    return 1;
  }
  std::array<std::array<std::uint8_t, 256>, kBatch> in{}, out{};
  std::array<sockaddr_in, kBatch> from{};
  std::array<iovec, kBatch> iv{}, ov{};
  std::array<mmsghdr, kBatch> im{}, om{};
  for (;;) {
    for (int i = 0; i < kBatch; ++i) {
      iv[i] = {in[i].data(), in[i].size()};
      im[i].msg_hdr = {};
      im[i].msg_hdr.msg_name = &from[i];
      im[i].msg_hdr.msg_namelen = sizeof from[i];
      im[i].msg_hdr.msg_iov = &iv[i];
      im[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, im.data(), kBatch, MSG_WAITFORONE, nullptr);
    if (n <= 0) {
      if (n < 0 && errno != EINTR && errno != EAGAIN) return 1;
      if (n < 0 && errno == EAGAIN) {
        pollfd p{fd, POLLIN, 0};
        poll(&p, 1, -1);
      }
      continue;
    }
    int m = 0;
    for (int i = 0; i < n; ++i) {
      const std::uint8_t* q = in[i].data();
      if (im[i].msg_len < 16) continue;
      std::uint32_t action = get32(q + 8);
      std::uint8_t* r = out[m].data();
      put32(r, action);
      std::memcpy(r + 4, q + 12, 4);
      std::size_t len = 16;
      if (action == 0) put64(r + 8, 0x1234567890abcdefULL);
      else {
        put32(r + 8, 1800), put32(r + 12, 0), put32(r + 16, 0);
        len = 20;
      }
      ov[m] = {r, len};
      om[m].msg_hdr = {};
      om[m].msg_hdr.msg_name = &from[i];
      om[m].msg_hdr.msg_namelen = sizeof from[i];
      om[m].msg_hdr.msg_iov = &ov[m];
      om[m].msg_hdr.msg_iovlen = 1;
      ++m;
    }
    if (m > 0) sendmmsg(fd, om.data(), m, 0);
  }
}

// One request in flight: its transaction id (0: the slot is free) and when it left.
struct Slot {
  std::uint32_t tid = 0;
  std::int64_t sent_ns = 0;
};

struct Sock {
  int fd = -1;
  std::uint64_t cid = 0;
  bool connected = false;
  std::vector<Slot> slots;  // WINDOW of them
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"BEP 15 announce load against a tracker on 127.0.0.1 (or --reflect: the cheapest tracker)."};
  std::uint16_t port = 0, reflect_port = 0;
  double seconds = 10;
  int nsock = 64, window = 8, peers = 20;
  std::string hashes_file;
  app.add_option("--port", port, "the tracker's UDP port on 127.0.0.1");
  app.add_option("--seconds", seconds, "how long to measure");
  app.add_option("--sockets", nsock, "client sockets, each on its own loopback address")->check(CLI::Range(1, 60000));
  app.add_option("--window", window, "announces in flight per socket")->check(CLI::Range(1, 1024));
  int timeout_ms = 100;
  app.add_option("--timeout-ms", timeout_ms, "an announce unanswered this long is counted lost and replaced")
      ->check(CLI::Range(1, 10000));
  app.add_option("--peers", peers, "peer ids per swarm")->check(CLI::Range(1, 65535));
  app.add_option("--hashes", hashes_file, "info hashes, hex, one a line (the whitelist)");
  app.add_option("--reflect", reflect_port, "answer as the cheapest possible tracker on this port instead");
  CLI11_PARSE(app, argc, argv);
  if (reflect_port != 0) return reflect(reflect_port);
  if (port == 0 || hashes_file.empty()) {
    std::fprintf(stderr, "bt_udp_load: --port and --hashes are required\n");
    return 2;
  }
  std::vector<std::array<std::uint8_t, 20>> hashes;
  {
    std::ifstream f(hashes_file);
    std::string line;
    while (std::getline(f, line)) {
      if (line.size() < 40) continue;
      std::array<std::uint8_t, 20> h{};
      for (int i = 0; i < 20; ++i) h[i] = static_cast<std::uint8_t>(std::stoul(line.substr(2 * i, 2), nullptr, 16));
      hashes.push_back(h);
    }
  }
  if (hashes.empty()) {
    std::fprintf(stderr, "bt_udp_load: no hashes in %s\n", hashes_file.c_str());
    return 2;
  }
  Rng rng{0x9E3779B97F4A7C15ULL};
  std::vector<std::array<std::uint8_t, 20>> ids(peers);
  for (auto& id : ids) {
    std::memcpy(id.data(), "-BN0001-", 8);
    for (int i = 8; i < 20; ++i) id[i] = static_cast<std::uint8_t>(rng.next());
  }
  sockaddr_in tracker{};
  tracker.sin_family = AF_INET;
  tracker.sin_port = htons(port);
  tracker.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  int ep = epoll_create1(0);
  std::vector<Sock> socks(nsock);
  for (int i = 0; i < nsock; ++i) {
    char ip[32];
    std::snprintf(ip, sizeof ip, "127.0.%d.%d", i / 250, i % 250 + 1);
    socks[i].fd = udp_socket(ip, 0);
    if (socks[i].fd < 0) {
      std::perror("bt_udp_load: socket");
      return 1;
    }
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.u32 = static_cast<std::uint32_t>(i);
    epoll_ctl(ep, EPOLL_CTL_ADD, socks[i].fd, &e);
  }
  std::uint32_t next_tid = 1;
  auto now_ns = [] { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); };

  // Connect every socket (resent each 0.5 s until answered, 5 s at most).
  auto connect_deadline = Clock::now() + std::chrono::seconds(5);
  int connected = 0;
  while (connected < nsock && Clock::now() < connect_deadline) {
    for (int i = 0; i < nsock; ++i) {
      if (socks[i].connected) continue;
      std::uint8_t q[16];
      put64(q, kProtocolId), put32(q + 8, 0), put32(q + 12, static_cast<std::uint32_t>(i));
      sendto(socks[i].fd, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&tracker), sizeof tracker);
    }
    auto round_end = Clock::now() + std::chrono::milliseconds(500);
    while (connected < nsock && Clock::now() < round_end) {
      epoll_event evs[64];
      int n = epoll_wait(ep, evs, 64, 50);
      for (int k = 0; k < n; ++k) {
        Sock& s = socks[evs[k].data.u32];
        std::uint8_t r[64];
        ssize_t len;
        while ((len = recv(s.fd, r, sizeof r, 0)) > 0) {
          if (len == 16 && get32(r) == 0 && !s.connected) {
            s.cid = get64(r + 8);
            s.connected = true;
            ++connected;
          }
        }
      }
    }
  }
  if (connected < nsock) {
    std::fprintf(stderr, "bt_udp_load: only %d of %d sockets connected\n", connected, nsock);
    return 1;
  }

  // Announces: one batch per socket per wake-up.
  std::array<std::array<std::uint8_t, 98>, kBatch> out{};
  std::array<iovec, kBatch> ov{};
  std::array<mmsghdr, kBatch> om{};
  std::array<std::array<std::uint8_t, 1500>, kBatch> in{};
  std::array<iovec, kBatch> iv{};
  std::array<mmsghdr, kBatch> im{};
  std::uint64_t answered = 0, errors = 0, lost = 0;
  std::vector<std::uint32_t> latencies_us;
  latencies_us.reserve(1 << 22);
  // Fills every free slot of the socket with a new announce (batches of kBatch).
  auto send_announces = [&](Sock& s) {
    std::int64_t t = now_ns();
    std::array<Slot*, kBatch> filled{};
    std::size_t next = 0;
    while (next < s.slots.size()) {
      int m = 0;
      for (; next < s.slots.size() && m < kBatch; ++next) {
        Slot& slot = s.slots[next];
        if (slot.tid != 0) continue;
        std::uint8_t* q = out[m].data();
        std::uint64_t r = rng.next();
        std::size_t h = r % hashes.size();
        int p = static_cast<int>((r >> 32) % static_cast<std::uint64_t>(peers));
        std::uint32_t tid = next_tid++;
        if (next_tid == 0) next_tid = 1;
        put64(q, s.cid), put32(q + 8, 1), put32(q + 12, tid);
        std::memcpy(q + 16, hashes[h].data(), 20);
        std::memcpy(q + 36, ids[p].data(), 20);
        put64(q + 56, 0), put64(q + 64, static_cast<std::uint64_t>(p % 2) * 1000), put64(q + 72, 0);
        put32(q + 80, 0), put32(q + 84, 0), put32(q + 88, 0), put32(q + 92, 50);
        q[96] = static_cast<std::uint8_t>((6881 + p) >> 8), q[97] = static_cast<std::uint8_t>(6881 + p);
        slot = {tid, t};
        filled[m] = &slot;
        ov[m] = {q, 98};
        om[m].msg_hdr = {};
        om[m].msg_hdr.msg_name = &tracker;
        om[m].msg_hdr.msg_namelen = sizeof tracker;
        om[m].msg_hdr.msg_iov = &ov[m];
        om[m].msg_hdr.msg_iovlen = 1;
        ++m;
      }
      if (m == 0) break;
      int done = sendmmsg(s.fd, om.data(), static_cast<unsigned>(m), 0);
      // Send buffer full: what did not leave is freed again, tried after the next answer or check.
      for (int j = std::max(done, 0); j < m; ++j) *filled[j] = Slot{};
      if (done < m) break;
    }
  };
  auto start = Clock::now();
  for (Sock& s : socks) {
    s.slots.assign(static_cast<std::size_t>(window), Slot{});
    send_announces(s);
  }
  auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  auto next_check = start + std::chrono::milliseconds(10);
  const std::int64_t timeout_ns = static_cast<std::int64_t>(timeout_ms) * 1'000'000;
  for (;;) {
    auto now = Clock::now();
    if (now >= end) break;
    epoll_event evs[256];
    int n = epoll_wait(ep, evs, 256, 5);
    for (int k = 0; k < n; ++k) {
      Sock& s = socks[evs[k].data.u32];
      int got = 0;
      for (;;) {
        for (int i = 0; i < kBatch; ++i) {
          iv[i] = {in[i].data(), in[i].size()};
          im[i].msg_hdr = {};
          im[i].msg_hdr.msg_iov = &iv[i];
          im[i].msg_hdr.msg_iovlen = 1;
        }
        int r = recvmmsg(s.fd, im.data(), kBatch, MSG_DONTWAIT, nullptr);
        if (r <= 0) break;
        std::int64_t t = now_ns();
        for (int i = 0; i < r; ++i) {
          const std::uint8_t* a = in[i].data();
          if (im[i].msg_len < 8) continue;
          std::uint32_t tid = get32(a + 4);
          auto slot = std::find_if(s.slots.begin(), s.slots.end(), [&](const Slot& x) { return x.tid == tid; });
          if (slot == s.slots.end()) continue;  // late: already counted lost
          if (get32(a) == 3) ++errors;
          else if (get32(a) == 1 && im[i].msg_len >= 20) {
            ++answered;
            latencies_us.push_back(static_cast<std::uint32_t>((t - slot->sent_ns) / 1000));
          }
          *slot = Slot{};
          ++got;
        }
        if (r < kBatch) break;
      }
      if (got > 0) send_announces(s);
    }
    now = Clock::now();
    if (now >= next_check) {  // lost datagrams: replaced once older than the timeout
      next_check = now + std::chrono::milliseconds(10);
      std::int64_t t = now_ns();
      for (Sock& s : socks) {
        bool freed = false;
        for (Slot& slot : s.slots)
          if (slot.tid == 0 || t - slot.sent_ns > timeout_ns) {
            if (slot.tid != 0) ++lost;
            slot = Slot{};
            freed = true;
          }
        if (freed) send_announces(s);
      }
    }
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  double p99 = 0;
  if (!latencies_us.empty()) {
    std::size_t k = latencies_us.size() * 99 / 100;
    std::nth_element(latencies_us.begin(), latencies_us.begin() + static_cast<std::ptrdiff_t>(k), latencies_us.end());
    p99 = latencies_us[k] / 1000.0;
  }
  std::printf("%.0f %.2f\n", static_cast<double>(answered) / elapsed, p99);
  std::fprintf(stderr, "bt_udp_load: %llu answered, %llu errors, %llu lost in %.1f s\n",
               static_cast<unsigned long long>(answered), static_cast<unsigned long long>(errors),
               static_cast<unsigned long long>(lost), elapsed);
  for (Sock& s : socks) close(s.fd);
  close(ep);
  return answered > 0 ? 0 : 1;
}
