// open_relay_link (relay_link.hpp): the client side of the relay hello.
#include "swarm/relay_link.hpp"

#include <asio/connect.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <array>

#include "net/use_tuple.hpp"

namespace p2p {

using asio::ip::tcp;
using nlohmann::json;
using namespace asio::experimental::awaitable_operators;

namespace {

// The relay's answer is a small frame: {"type":"relay_ready"} or an error frame.
constexpr std::uint32_t kMaxRelayAnswerBytes = 1024;

asio::awaitable<std::string> hello(tcp::socket& socket, const std::string& host, std::uint16_t port,
                                   const std::string& ticket, RelayRole role) {
  tcp::resolver resolver(socket.get_executor());
  auto [rec, endpoints] = co_await resolver.async_resolve(host, std::to_string(port), kUseTuple);
  if (rec) co_return fmt::format("cannot resolve relay {}: {}", host, rec.message());
  auto [cec, ep] = co_await asio::async_connect(socket, endpoints, kUseTuple);
  if (cec) co_return fmt::format("cannot connect to relay {}:{}: {}", host, port, cec.message());
  std::string header =
      json{{"type", "relay_hello"}, {"ticket", ticket}, {"role", role == RelayRole::dialler ? "dialler" : "acceptor"}}.dump();
  std::array<std::uint8_t, 4> prefix{static_cast<std::uint8_t>(header.size() >> 24), static_cast<std::uint8_t>(header.size() >> 16),
                                     static_cast<std::uint8_t>(header.size() >> 8), static_cast<std::uint8_t>(header.size())};
  std::array<asio::const_buffer, 2> out{asio::buffer(prefix), asio::buffer(header)};
  auto [wec, wn] = co_await asio::async_write(socket, out, kUseTuple);
  if (wec) co_return fmt::format("relay {}:{}: cannot send the hello: {}", host, port, wec.message());
  auto [rec1, rn] = co_await asio::async_read(socket, asio::buffer(prefix), kUseTuple);
  if (rec1) co_return fmt::format("relay {}:{} closed before pairing us ({})", host, port, rec1.message());
  std::uint32_t n = (std::uint32_t{prefix[0]} << 24) | (std::uint32_t{prefix[1]} << 16) | (std::uint32_t{prefix[2]} << 8) | prefix[3];
  if (n == 0 || n > kMaxRelayAnswerBytes) co_return fmt::format("relay {}:{}: answer frame of {} bytes", host, port, n);
  std::string answer(n, '\0');
  auto [rec2, rn2] = co_await asio::async_read(socket, asio::buffer(answer), kUseTuple);
  if (rec2) co_return fmt::format("relay {}:{} closed before pairing us ({})", host, port, rec2.message());
  json j = json::parse(answer, nullptr, false);
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    co_return fmt::format("relay {}:{}: malformed answer", host, port);
  if (j["type"] == "relay_ready") co_return std::string();
  std::string why = j.contains("message") && j["message"].is_string() ? j["message"].get<std::string>() : "no reason given";
  co_return fmt::format("relay {}:{} refused: {}", host, port, why.substr(0, 200));
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
