// Checked reads of Redis replies.
#include "tracker/redis_value.hpp"

#include <fmt/format.h>

#include <charconv>

#include "tracker/tracker_store.hpp"

namespace p2p::tracker {

void unexpected_answer(std::string_view what, std::string_view detail) {
  throw StoreUnavailable(fmt::format("tracker store answered {} unexpectedly: {}", what, detail));
}

std::string RedisValue::describe() const {
  switch (type) {
    case Type::nil: return "nil";
    case Type::integer: return fmt::format("the integer {}", integer);
    case Type::string: return fmt::format("a string of {} bytes", text.size());
    case Type::status: return fmt::format("the status {:?}", text.substr(0, 80));
    case Type::error: return fmt::format("the error {:?}", text.substr(0, 200));
    case Type::array: return fmt::format("an array of {} elements", elements.size());
  }
  return "?";
}

std::int64_t RedisValue::as_int(std::string_view what, std::int64_t min, std::int64_t max) const {
  std::int64_t v = 0;
  if (type == Type::integer) {
    v = integer;
  } else if (type == Type::string) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
      unexpected_answer(what, fmt::format("expected an integer, got {:?}", text.substr(0, 40)));
  } else {
    unexpected_answer(what, fmt::format("expected an integer, got {}", describe()));
  }
  if (v < min || v > max) unexpected_answer(what, fmt::format("{} is outside {}-{}", v, min, max));
  return v;
}

const std::string& RedisValue::as_string(std::string_view what, std::size_t max_bytes) const {
  if (type != Type::string) unexpected_answer(what, fmt::format("expected a string, got {}", describe()));
  if (text.size() > max_bytes) unexpected_answer(what, fmt::format("{} bytes, more than {}", text.size(), max_bytes));
  return text;
}

std::optional<std::string> RedisValue::as_optional_string(std::string_view what, std::size_t max_bytes) const {
  if (is_nil()) return std::nullopt;
  return as_string(what, max_bytes);
}

const std::vector<RedisValue>& RedisValue::as_array(std::string_view what, std::size_t min, std::size_t max) const {
  if (type != Type::array) unexpected_answer(what, fmt::format("expected an array, got {}", describe()));
  if (elements.size() < min || elements.size() > max)
    unexpected_answer(what, fmt::format("{} elements, expected {}-{}", elements.size(), min, max));
  return elements;
}

void RedisValue::expect_status(std::string_view what) const {
  if (type != Type::status) unexpected_answer(what, fmt::format("expected a status, got {}", describe()));
}

}  // namespace p2p::tracker
