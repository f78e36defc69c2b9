// A Redis reply we own (hiredis frees its own after the callback), and checked
// reads of it: every type, count and length is verified before use, so a Redis
// that answers garbage is a StoreUnavailable (503), never a crash.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace p2p::tracker {

class RedisValue {
 public:
  enum class Type { nil, integer, string, status, error, array };

  Type type = Type::nil;
  std::int64_t integer = 0;
  std::string text;  // string, status or error
  std::vector<RedisValue> elements;

  bool is_nil() const { return type == Type::nil; }
  bool is_error() const { return type == Type::error; }

  // An integer in [min, max], sent as an integer or as a string of digits
  // (hash fields are strings). `what` names the reply in the error.
  std::int64_t as_int(std::string_view what, std::int64_t min, std::int64_t max) const;
  // A bulk string of at most max_bytes.
  const std::string& as_string(std::string_view what, std::size_t max_bytes) const;
  std::optional<std::string> as_optional_string(std::string_view what, std::size_t max_bytes) const;
  // An array with min..max elements.
  const std::vector<RedisValue>& as_array(std::string_view what, std::size_t min, std::size_t max) const;
  // A +OK (or any status) reply; throws with Redis's own message on an error reply.
  void expect_status(std::string_view what) const;

  std::string describe() const;  // for error messages: "an integer", "the error 'ERR ...'"
};

// Throws StoreUnavailable("tracker store answered <what> unexpectedly: <detail>").
[[noreturn]] void unexpected_answer(std::string_view what, std::string_view detail);

}  // namespace p2p::tracker
