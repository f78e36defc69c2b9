// URL query strings (?a=1&b=%41): split and percent-decoded without copying
// the common case (hex and digits), because every announce goes through here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace p2p::tracker {

// Splits a request target into path and query ("/a?b" -> "/a", "b").
std::pair<std::string_view, std::string_view> split_target(std::string_view target);

// Percent-decodes (and '+' -> ' '); false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out);

class Query {
 public:
  // More parameters than this is not a client of ours; refuse rather than scan.
  static constexpr std::size_t kMaxParams = 80;

  // False with error() set on a bad escape or too many parameters. Views stay
  // valid while both this Query and the raw text live.
  bool parse(std::string_view raw);
  const std::string& error() const { return error_; }

  std::optional<std::string_view> get(std::string_view key) const;  // first occurrence
  std::size_t count(std::string_view key) const;
  template <typename F>
  void for_each(std::string_view key, F&& f) const {
    for (const auto& [k, v] : params_)
      if (k == key) f(v);
  }

 private:
  std::string_view decoded(std::string_view s);
  std::vector<std::pair<std::string_view, std::string_view>> params_;
  std::deque<std::string> storage_;  // decoded copies; a deque keeps their addresses
  std::string error_;
};

// A parameter that is missing or not what the endpoint takes; `message` names the endpoint
// and the parameter. Both dialects answer it with 400 (JSON error or bencoded failure reason).
struct QueryRefusal {
  std::string message;
};

// The value of a parameter the endpoint needs; throws QueryRefusal when it is absent.
std::string_view required_param(const Query& q, std::string_view endpoint, std::string_view name);
// A decimal integer in 0..max; throws QueryRefusal otherwise.
std::uint64_t uint_param(std::string_view endpoint, std::string_view name, std::string_view text, std::uint64_t max);

}  // namespace p2p::tracker
