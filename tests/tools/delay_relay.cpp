// A TCP relay that delays each direction by a fixed time, for latency tests and benches
// (this kernel has neither netem nor fq, so the delay comes from user space).
//
//   delay_relay --listen 127.0.0.1:0 --target 10.77.0.2:6881 --delay-ms 50
//   delay_relay --listen 127.0.0.1:7000 --transparent --mark 0x7d1 --delay-ms 50
//
// Every accepted connection gets a connection to the target (--target, or with --transparent
// the original destination of a connection an nftables DNAT rule sent here, from
// SO_ORIGINAL_DST). Bytes are forwarded in order both ways, each no earlier than the moment
// it was read plus that direction's delay: RTT = delay up + delay down. What a side has read
// is kept in chunks (one per read, stamped with its due time) until due; each direction holds
// at most --buffer-bytes of them, beyond which it stops reading (the sender's TCP then stalls:
// back-pressure, bounded memory, and a ceiling of buffer/delay on the throughput of one
// direction). A half-close (EOF) is passed on once the bytes before it are, a reset or error
// on either side resets both. --mark sets SO_MARK on the outgoing connection, so that the
// DNAT rule that brought the connection here can skip it.
// One thread, Asio; prints "listening ADDR:PORT" on stdout (so --listen ADDR:0 works), with
// --stats one JSON line per closed connection (bytes each way, and the times at which each
// MiB had been delivered, for steady-state rates). Exits 0 on SIGTERM or SIGINT.
#include <netinet/in.h>  // before linux/netfilter_ipv4.h (libc-compat then skips linux/in.h's twins)
#include <sys/socket.h>
#include <linux/netfilter_ipv4.h>  // SO_ORIGINAL_DST

#include <CLI/CLI.hpp>
#include <algorithm>
#include <asio.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace {
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Options {
  Clock::duration delay_up{};    // client -> target
  Clock::duration delay_down{};  // target -> client
  std::size_t buffer_bytes = 64u << 20;
  std::optional<tcp::endpoint> target;
  bool transparent = false;
  int mark = 0;
  bool stats = false;
};

constexpr std::size_t kMinRead = 16u << 10;
constexpr std::size_t kMaxRead = 1u << 20;
constexpr std::size_t kMaxGather = 64;
constexpr std::size_t kMaxMarks = 1u << 16;

struct Chunk {
  std::unique_ptr<char[]> data;
  std::size_t capacity = 0;
  std::size_t size = 0;
  std::size_t sent = 0;
  Clock::time_point due;
};

class Link;

// One direction of a link: reads from `from`, holds chunks until due, writes them to `to`.
class Direction {
 public:
  Direction(Link& link, tcp::socket& from, tcp::socket& to, Clock::duration delay, std::size_t bound)
      : link_(link), from_(from), to_(to), delay_(delay), bound_(bound), timer_(from.get_executor()) {}
  void start() { read(); }
  bool finished() const { return eof_passed_; }
  std::uint64_t delivered() const { return delivered_; }
  const std::vector<double>& mib_ms() const { return mib_ms_; }
  void cancel() { timer_.cancel(); }

 private:
  void read();
  void on_readable(const asio::error_code& ec);
  void pump();
  void write_due();
  void wait_until(Clock::time_point t);

  Link& link_;
  tcp::socket& from_;
  tcp::socket& to_;
  Clock::duration delay_;
  std::size_t bound_;
  asio::steady_timer timer_;
  std::deque<Chunk> queue_;
  std::size_t queued_ = 0;  // capacity of the chunks held
  bool reading_ = false, writing_ = false, waiting_ = false;
  bool eof_ = false, eof_passed_ = false;
  Clock::time_point eof_due_;
  std::uint64_t delivered_ = 0;
  std::vector<double> mib_ms_;  // ms since the link began at which each MiB had been written
};

class Link : public std::enable_shared_from_this<Link> {
 public:
  Link(tcp::socket client, const Options& o)
      : client_(std::move(client)), server_(client_.get_executor()), opts_(o),
        up_(*this, client_, server_, o.delay_up, o.buffer_bytes),
        down_(*this, server_, client_, o.delay_down, o.buffer_bytes) {}

  void start() {
    asio::error_code ec;
    auto peer = client_.remote_endpoint(ec);
    if (!ec) from_ = peer.address().to_string() + ":" + std::to_string(peer.port());
    tcp::endpoint dest;
    if (opts_.transparent) {
      sockaddr_in sa{};
      socklen_t len = sizeof sa;
      if (::getsockopt(client_.native_handle(), SOL_IP, SO_ORIGINAL_DST, &sa, &len) != 0 || sa.sin_family != AF_INET) {
        std::fprintf(stderr, "delay_relay: connection from %s has no original destination (not DNAT'd here): closed\n",
                     from_.c_str());
        return abort();
      }
      dest = tcp::endpoint(asio::ip::address_v4(ntohl(sa.sin_addr.s_addr)), ntohs(sa.sin_port));
    } else {
      dest = *opts_.target;
    }
    to_ = dest.address().to_string() + ":" + std::to_string(dest.port());
    server_.open(dest.protocol(), ec);
    if (!ec && opts_.mark != 0) {
      int m = opts_.mark;
      if (::setsockopt(server_.native_handle(), SOL_SOCKET, SO_MARK, &m, sizeof m) != 0) {
        std::fprintf(stderr, "delay_relay: SO_MARK %d refused (needs CAP_NET_ADMIN): closed\n", m);
        return abort();
      }
    }
    if (ec) return abort();
    server_.async_connect(dest, [self = shared_from_this()](const asio::error_code& e) {
      if (e) return self->abort();
      asio::error_code ignored;
      self->client_.set_option(tcp::no_delay(true), ignored);
      self->server_.set_option(tcp::no_delay(true), ignored);
      self->up_.start();
      self->down_.start();
    });
  }

  // A reset or an error on either side: both sides are reset (SO_LINGER 0), both directions stop.
  void abort() {
    if (closed_) return;
    asio::error_code ec;
    for (auto* s : {&client_, &server_}) {
      if (s->is_open()) {
        s->set_option(asio::socket_base::linger(true, 0), ec);
        s->close(ec);
      }
    }
    finish();
  }

  // Called when a direction has passed on its EOF: once both have, the link is done.
  void direction_done() {
    if (up_.finished() && down_.finished() && !closed_) {
      asio::error_code ec;
      client_.close(ec);
      server_.close(ec);
      finish();
    }
  }

 private:
  void finish() {
    closed_ = true;
    up_.cancel();
    down_.cancel();
    if (!opts_.stats) return;
    nlohmann::json j{{"event", "closed"},
                     {"from", from_},
                     {"to", to_},
                     {"bytes_up", up_.delivered()},
                     {"bytes_down", down_.delivered()},
                     {"up_mib_ms", up_.mib_ms()},
                     {"down_mib_ms", down_.mib_ms()}};
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
  }

 public:
  tcp::socket client_;
  tcp::socket server_;
  const Options& opts_;
  Direction up_, down_;
  bool closed_ = false;
  Clock::time_point began_ = Clock::now();
  std::string from_ = "?", to_ = "?";
};

void Direction::read() {
  if (reading_ || eof_ || link_.closed_ || queued_ >= bound_) return;
  reading_ = true;
  from_.async_wait(tcp::socket::wait_read, [this, self = link_.shared_from_this()](const asio::error_code& ec) {
    reading_ = false;
    on_readable(ec);
  });
}

void Direction::on_readable(const asio::error_code& wait_ec) {
  if (link_.closed_) return;
  if (wait_ec) return link_.abort();
  asio::error_code ec;
  std::size_t avail = from_.available(ec);
  if (ec) return link_.abort();
  // Sized for what is there (a small read does not hold a big buffer), within the bound.
  std::size_t cap = std::clamp(std::min(avail, bound_ - queued_), kMinRead, kMaxRead);
  Chunk c{std::make_unique<char[]>(cap), cap, 0, 0, {}};
  from_.non_blocking(true, ec);
  std::size_t n = from_.read_some(asio::buffer(c.data.get(), cap), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) return read();
  if (ec == asio::error::eof) {
    eof_ = true;
    eof_due_ = Clock::now() + delay_;
    return pump();
  }
  if (ec) return link_.abort();
  c.size = n;
  c.due = Clock::now() + delay_;
  queued_ += c.capacity;
  queue_.push_back(std::move(c));
  pump();
  read();
}

// Writes what is due, or sets the timer for the next due chunk (or the EOF).
void Direction::pump() {
  if (link_.closed_ || writing_) return;
  auto now = Clock::now();
  if (!queue_.empty()) {
    if (queue_.front().due <= now) return write_due();
    return wait_until(queue_.front().due);
  }
  if (eof_ && !eof_passed_) {
    if (eof_due_ > now) return wait_until(eof_due_);
    asio::error_code ec;
    to_.shutdown(tcp::socket::shutdown_send, ec);
    eof_passed_ = true;
    link_.direction_done();
  }
}

void Direction::wait_until(Clock::time_point t) {
  if (waiting_) {
    if (timer_.expiry() <= t) return;
    timer_.cancel();  // its handler sees operation_aborted and does nothing
  }
  waiting_ = true;
  timer_.expires_at(t);
  timer_.async_wait([this, self = link_.shared_from_this()](const asio::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    waiting_ = false;
    pump();
  });
}

void Direction::write_due() {
  auto now = Clock::now();
  std::vector<asio::const_buffer> bufs;
  for (auto& c : queue_) {
    if (c.due > now || bufs.size() == kMaxGather) break;
    bufs.emplace_back(c.data.get() + c.sent, c.size - c.sent);
  }
  writing_ = true;
  to_.async_write_some(bufs, [this, self = link_.shared_from_this()](const asio::error_code& ec, std::size_t n) {
    writing_ = false;
    if (link_.closed_) return;
    if (ec) return link_.abort();
    std::uint64_t before = delivered_;
    delivered_ += n;
    if (delivered_ >> 20 != before >> 20 && mib_ms_.size() < kMaxMarks) {
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - link_.began_).count();
      for (auto k = before >> 20; k < delivered_ >> 20 && mib_ms_.size() < kMaxMarks; ++k) mib_ms_.push_back(ms);
    }
    while (n > 0) {
      auto& c = queue_.front();
      std::size_t take = std::min(n, c.size - c.sent);
      c.sent += take;
      n -= take;
      if (c.sent == c.size) {
        queued_ -= c.capacity;
        queue_.pop_front();
      }
    }
    while (!queue_.empty() && queue_.front().size == 0) queue_.pop_front();
    pump();
    read();
  });
}

std::optional<tcp::endpoint> parse_endpoint(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  asio::error_code ec;
  auto addr = asio::ip::make_address(s.substr(0, colon), ec);
  if (ec) return std::nullopt;
  try {
    int port = std::stoi(s.substr(colon + 1));
    if (port < 0 || port > 65535) return std::nullopt;
    return tcp::endpoint(addr, static_cast<unsigned short>(port));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void accept_loop(tcp::acceptor& acceptor, asio::steady_timer& pause, const Options& opts) {
  acceptor.async_accept([&acceptor, &pause, &opts](const asio::error_code& ec, tcp::socket s) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      std::make_shared<Link>(std::move(s), opts)->start();
      return accept_loop(acceptor, pause, opts);
    }
    // Out of descriptors or memory: say so and try again shortly, not in a busy loop.
    std::fprintf(stderr, "delay_relay: accept failed: %s\n", ec.message().c_str());
    pause.expires_after(std::chrono::milliseconds(100));
    pause.async_wait([&acceptor, &pause, &opts](const asio::error_code& e) {
      if (!e) accept_loop(acceptor, pause, opts);
    });
  });
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"TCP relay that delays each direction (latency tests and benches)"};
  std::string listen = "127.0.0.1:0", target;
  double delay_ms = 0, up_ms = -1, down_ms = -1;
  std::size_t buffer_bytes = 64u << 20;
  std::string mark = "0";
  Options opts;
  app.add_option("--listen", listen, "ADDR:PORT to listen on (port 0: any; printed on stdout)");
  app.add_option("--target", target, "ADDR:PORT every accepted connection is relayed to");
  app.add_flag("--transparent", opts.transparent,
               "relay each connection to its original destination (SO_ORIGINAL_DST, after an nftables DNAT)");
  app.add_option("--delay-ms", delay_ms, "delay of each direction in ms (RTT = twice this)")->check(CLI::Range(0.0, 60000.0));
  app.add_option("--delay-up-ms", up_ms, "delay client -> target in ms (default: --delay-ms)")->check(CLI::Range(0.0, 60000.0));
  app.add_option("--delay-down-ms", down_ms, "delay target -> client in ms (default: --delay-ms)")->check(CLI::Range(0.0, 60000.0));
  app.add_option("--buffer-bytes", buffer_bytes, "most bytes held per direction before reading stops (default 64 MiB)")
      ->check(CLI::Range(std::size_t{1} << 20, std::size_t{1} << 34));
  app.add_option("--mark", mark, "SO_MARK of outgoing connections (decimal or 0x hex; 0 = none)");
  app.add_flag("--stats", opts.stats, "print one JSON line per closed connection");
  CLI11_PARSE(app, argc, argv);

  auto ms = [](double v) { return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(v)); };
  opts.delay_up = ms(up_ms >= 0 ? up_ms : delay_ms);
  opts.delay_down = ms(down_ms >= 0 ? down_ms : delay_ms);
  opts.buffer_bytes = buffer_bytes;
  try {
    opts.mark = std::stoi(mark, nullptr, 0);
  } catch (const std::exception&) {
    std::fprintf(stderr, "delay_relay: --mark '%s' is not a number\n", mark.c_str());
    return 2;
  }
  if (opts.transparent == !target.empty()) {
    std::fprintf(stderr, "delay_relay: give exactly one of --target ADDR:PORT and --transparent\n");
    return 2;
  }
  if (!target.empty() && !(opts.target = parse_endpoint(target))) {
    std::fprintf(stderr, "delay_relay: --target '%s' is not ADDR:PORT\n", target.c_str());
    return 2;
  }
  auto where = parse_endpoint(listen);
  if (!where) {
    std::fprintf(stderr, "delay_relay: --listen '%s' is not ADDR:PORT\n", listen.c_str());
    return 2;
  }

  asio::io_context io(1);
  tcp::acceptor acceptor(io);
  try {
    acceptor.open(where->protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(*where);
    acceptor.listen(1024);
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "delay_relay: cannot listen on %s: %s\n", listen.c_str(), e.what());
    return 1;
  }
  auto at = acceptor.local_endpoint();
  std::printf("listening %s:%u\n", at.address().to_string().c_str(), at.port());
  std::fflush(stdout);
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const asio::error_code&, int) { io.stop(); });
  asio::steady_timer pause(io);
  accept_loop(acceptor, pause, opts);
  io.run();
  return 0;
}
