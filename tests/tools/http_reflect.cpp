// http_reflect: the cheapest HTTP "tracker" there can be, for bench/bt_tracker_bench.sh's
// ceiling row. One thread, epoll, accept4; every request (read up to its blank line)
// gets the same fixed bencoded announce answer, and the connection is closed after it
// when the request said "Connection: close". No parsing, no swarm, no limits: it only
// measures what the load generator, the kernel's TCP set-up and teardown and one core
// allow, so a tracker's figure can be read against it. Listens on 127.0.0.1 only.
//
//   http_reflect --port P
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>

#include <CLI/CLI.hpp>

namespace {
// A compact announce answer of one peer, as the trackers give to the bench's requests.
const std::string kBody = std::string("d8:completei1e10:incompletei1e8:intervali1800e5:peers6:") +
                          std::string("\x7f\x00\x00\x01\x1a\xe1", 6) + "e";
const std::string kAnswer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                            std::to_string(kBody.size()) + "\r\n\r\n" + kBody;
const std::string kAnswerClose = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: " +
                                 std::to_string(kBody.size()) + "\r\n\r\n" + kBody;
}  // namespace

int main(int argc, char** argv) {
  CLI::App app("http_reflect: a fixed HTTP answer to every request (a benchmark's ceiling)");
  int port = 0;
  app.add_option("--port", port, "TCP port on 127.0.0.1")->required();
  CLI11_PARSE(app, argc, argv);

  int ls = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(ls, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(ls, 4096) != 0) {
    std::fprintf(stderr, "http_reflect: cannot listen on 127.0.0.1:%d: %s\n", port, std::strerror(errno));
    return 1;
  }
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = ls;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  std::unordered_map<int, std::string> pending;  // bytes of a request not yet complete
  epoll_event events[256];
  char buf[16384];
  for (;;) {
    int n = ::epoll_wait(ep, events, 256, -1);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == ls) {
        for (;;) {
          int c = ::accept4(ls, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          epoll_event cev{};
          cev.events = EPOLLIN | EPOLLRDHUP;
          cev.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      ssize_t got = ::recv(fd, buf, sizeof buf, 0);
      if (got <= 0) {
        if (got < 0 && errno == EAGAIN) continue;
        pending.erase(fd);
        ::close(fd);
        continue;
      }
      std::string& req = pending[fd];
      req.append(buf, static_cast<std::size_t>(got));
      bool close_after = false, answered = false;
      for (std::size_t end; (end = req.find("\r\n\r\n")) != std::string::npos; req.erase(0, end + 4)) {
        close_after = std::string_view(req).substr(0, end).find("Connection: close") != std::string_view::npos;
        const std::string& out = close_after ? kAnswerClose : kAnswer;
        ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
        answered = true;
        if (close_after) break;
      }
      if (answered && close_after) {
        pending.erase(fd);
        ::close(fd);
      }
    }
  }
}
