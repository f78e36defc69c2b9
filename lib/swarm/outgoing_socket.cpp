// connect_outgoing / open_shared_listener (outgoing_socket.hpp).
#include "swarm/outgoing_socket.hpp"

#include <asio/steady_timer.hpp>
#include <sys/socket.h>

#include <cerrno>

#include <memory>

#include "net/use_tuple.hpp"

namespace p2p {

using asio::ip::tcp;

namespace {

void set_reuse_port(int fd, std::error_code& ec) {
  int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) ec.assign(errno, std::system_category());
}

// Opens `socket` for `remote`'s family, bound to `local` when it is of that family.
bool open_bound(tcp::socket& socket, const tcp::endpoint& remote, const std::optional<tcp::endpoint>& local) {
  std::error_code ec;
  socket.open(remote.protocol(), ec);
  if (ec) return false;
  if (!local || local->protocol() != remote.protocol()) return true;
  socket.set_option(tcp::socket::reuse_address(true), ec);
  if (!ec) set_reuse_port(socket.native_handle(), ec);
  if (!ec) socket.bind(*local, ec);
  if (ec) {  // not from the listen port then: close and open a plain one
    std::error_code ignored;
    socket.close(ignored);
    socket.open(remote.protocol(), ignored);
    return !ignored;
  }
  return true;
}

// One connect attempt, closed by a timer after `timeout`.
asio::awaitable<std::error_code> connect_one(tcp::socket& socket, const tcp::endpoint& remote,
                                             std::chrono::milliseconds timeout) {
  asio::steady_timer deadline(socket.get_executor(), timeout);
  // The timer's handler may already be queued when the connect completes (a loaded
  // machine): it must then neither close the socket we now own nor touch this frame.
  auto target = std::make_shared<tcp::socket*>(&socket);
  deadline.async_wait([target](std::error_code e) {
    std::error_code ignored;
    if (!e && *target) (*target)->close(ignored);
  });
  auto [ec] = co_await socket.async_connect(remote, kUseTuple);
  *target = nullptr;
  deadline.cancel();
  if (!ec && !socket.is_open()) ec = asio::error::timed_out;
  if (ec == asio::error::operation_aborted) ec = asio::error::timed_out;
  co_return ec;
}

}  // namespace

void open_shared_listener(tcp::acceptor& acceptor, const tcp::endpoint& where) {
  std::error_code ec;
  if (where.port() != 0) {
    // A probe without SO_REUSEPORT: fails if any socket (ours or another program's) holds the port.
    tcp::acceptor probe(acceptor.get_executor());
    probe.open(where.protocol(), ec);
    if (!ec) probe.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) probe.bind(where, ec);
    if (ec) throw std::system_error(ec);
  }
  acceptor.open(where.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) set_reuse_port(acceptor.native_handle(), ec);
  if (!ec) acceptor.bind(where, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::system_error(ec);
}

asio::awaitable<std::error_code> connect_outgoing(tcp::socket& socket, const tcp::resolver::results_type& endpoints,
                                                  std::optional<tcp::endpoint> local, std::chrono::milliseconds timeout) {
  std::error_code ec = asio::error::host_not_found;
  for (const auto& entry : endpoints) {
    const tcp::endpoint& remote = entry.endpoint();
    std::error_code ignored;
    socket.close(ignored);
    if (!open_bound(socket, remote, local)) continue;
    ec = co_await connect_one(socket, remote, timeout);
    if (ec.category() == asio::system_category() && (ec.value() == EADDRINUSE || ec.value() == EADDRNOTAVAIL)) {
      // This four-tuple is taken (another connection from our listen port to the same
      // peer, or one in TIME_WAIT): the same destination from an ephemeral port.
      socket.close(ignored);
      socket.open(remote.protocol(), ignored);
      if (ignored) continue;
      ec = co_await connect_one(socket, remote, timeout);
    }
    if (!ec) co_return ec;
  }
  std::error_code ignored;
  socket.close(ignored);
  co_return ec;
}

}  // namespace p2p
