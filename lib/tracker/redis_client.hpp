// A Redis connection for the tracker's shared store: hiredis's asynchronous
// API driven by the Asio io_context (no blocking on the event loop, no RESP
// written by hand), commands pipelined, Lua scripts loaded on every connect,
// reconnection with back-off. While Redis is unreachable every call throws
// StoreUnavailable at once (the API answers 503); one log line says it went
// down, one that it came back.
#pragma once
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/task.hpp"
#include "tracker/redis_value.hpp"

namespace asio {
class io_context;
}

namespace p2p::tracker {

struct RedisAddress {
  std::string host;  // name or numeric address (IPv6 without brackets)
  std::uint16_t port = 6379;
  int db = 0;
  std::string url() const;  // "redis://HOST:PORT/DB"
};

// Parses "redis://HOST[:PORT][/DB]" (IPv6 hosts in brackets). Throws
// Error(usage) naming the value and what is wrong with it.
RedisAddress parse_redis_url(std::string_view text);

// One command: its words, binary-safe ({"HGET", key, field}), in one buffer
// (each word as its 4-byte length, then its bytes), so a command costs one
// allocation however many words it has.
class RedisCommand {
 public:
  RedisCommand() = default;
  RedisCommand(std::initializer_list<std::string_view> words) {
    std::size_t n = 0;
    for (std::string_view w : words) n += sizeof(std::uint32_t) + w.size();
    bytes_.reserve(n);
    for (std::string_view w : words) add(w);
  }
  RedisCommand& add(std::string_view word) { return add_joined({word}); }
  // One word made of several pieces (a key: its prefix and an info hash), with no temporary string.
  RedisCommand& add_joined(std::initializer_list<std::string_view> pieces) {
    std::uint32_t n = 0;
    for (std::string_view p : pieces) n += static_cast<std::uint32_t>(p.size());
    // Most commands are short: one allocation up front rather than a few as it grows.
    if (bytes_.capacity() < kTypicalBytes) bytes_.reserve(std::max<std::size_t>(kTypicalBytes, bytes_.size() + n + 4));
    bytes_.append(reinterpret_cast<const char*>(&n), sizeof n);
    for (std::string_view p : pieces) bytes_.append(p);
    ++count_;
    return *this;
  }
  std::size_t size() const { return count_; }
  // Calls f(word) for every word, in order.
  template <typename F>
  void for_each_word(F&& f) const {
    std::size_t at = 0;
    for (std::size_t i = 0; i < count_; ++i) {
      std::uint32_t n;
      std::memcpy(&n, bytes_.data() + at, sizeof n);
      f(std::string_view(bytes_).substr(at + sizeof n, n));
      at += sizeof n + n;
    }
  }

 private:
  static constexpr std::size_t kTypicalBytes = 192;  // an announce's fast-path command, with room
  std::string bytes_;
  std::size_t count_ = 0;
};

class RedisClient {
 public:
  using Log = std::function<void(const std::string&)>;

  // `scripts` are Lua sources loaded with SCRIPT LOAD after every connect;
  // script_call(i, ...) runs scripts[i] by its SHA-1.
  RedisClient(asio::io_context& io, RedisAddress address, std::vector<std::string> scripts, Log log);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  void start();  // connects in the background, and again whenever the connection is lost
  void stop();   // closes; waiting calls fail with StoreUnavailable
  bool up() const;
  const std::string& url() const;

  // Writes every command back to back (no waiting between them) and returns
  // their replies in order. An error reply is returned as a value; the caller
  // decides. Throws StoreUnavailable when not connected, when too many
  // commands are already waiting, or when the connection is lost or stuck
  // (kRedisCommandTimeout) before every reply is in.
  Task<std::vector<RedisValue>> pipeline(std::vector<RedisCommand> commands);
  Task<RedisValue> command(RedisCommand command);
  // EVALSHA <sha of scripts[index]> 0 args...
  RedisCommand script_call(std::size_t index, std::initializer_list<std::string_view> args) const;

  struct Impl;  // opaque: keeps Asio and hiredis out of this header

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace p2p::tracker
