// open_relay_link (relay_link.hpp): the client side of the relay hello.
#include "swarm/relay_link.hpp"

#include <asio/connect.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <fmt/core.h>

#include <array>

#include "net/use_tuple.hpp"

namespace p2p {

using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

asio::awaitable<std::string> hello(tcp::socket& socket, const std::string& host, std::uint16_t port,
                                   const std::string& ticket, RelayRole role) {
  tcp::resolver resolver(socket.get_executor());
  auto [rec, endpoints] = co_await resolver.async_resolve(host, std::to_string(port), kUseTuple);
  if (rec) co_return fmt::format("cannot resolve relay {}: {}", host, rec.message());
  auto [cec, ep] = co_await asio::async_connect(socket, endpoints, kUseTuple);
  if (cec) co_return fmt::format("cannot connect to relay {}:{}: {}", host, port, cec.message());
  std::string out = relay::encode_hello(relay::Hello{ticket, role});
  auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(out), kUseTuple);
  if (wec) co_return fmt::format("relay {}:{}: cannot send the hello: {}", host, port, wec.message());
  std::array<std::uint8_t, relay::kPrefixBytes> prefix{};
  auto [rec1, rn] = co_await asio::async_read(socket, asio::buffer(prefix), kUseTuple);
  if (rec1) co_return fmt::format("relay {}:{} closed before pairing us ({})", host, port, rec1.message());
  auto n = relay::decode_length(prefix, relay::kMaxAnswerHeaderBytes);
  if (!n) co_return fmt::format("relay {}:{}: answer frame of a bad length", host, port);
  std::string header(*n, '\0');
  auto [rec2, rn2] = co_await asio::async_read(socket, asio::buffer(header), kUseTuple);
  if (rec2) co_return fmt::format("relay {}:{} closed before pairing us ({})", host, port, rec2.message());
  std::string problem;
  auto answer = relay::decode_answer(header, problem);
  if (!answer) co_return fmt::format("relay {}:{}: {}", host, port, problem);
  if (answer->ready) co_return std::string();
  co_return fmt::format("relay {}:{} refused: {}", host, port, answer->refusal.substr(0, 200));
}

}  // namespace

asio::awaitable<std::string> open_relay_link(tcp::socket& socket, std::string host, std::uint16_t port, std::string ticket,
                                             RelayRole role, std::chrono::milliseconds timeout) {
  asio::steady_timer deadline(socket.get_executor(), timeout);
  auto result = co_await (hello(socket, host, port, ticket, role) || deadline.async_wait(kUseTuple));
  if (result.index() == 1) {
    std::error_code ignored;
    socket.close(ignored);
    co_return fmt::format("relay {}:{}: not paired within {} s", host, port, timeout.count() / 1000);
  }
  std::string why = std::get<0>(result);
  if (!why.empty()) {
    std::error_code ignored;
    socket.close(ignored);
  }
  co_return why;
}

}  // namespace p2p
