// JSON from untrusted bytes with bounded work and memory: at most `max_values`
// values (scalars and containers) and `max_depth` levels of nesting; the parse
// stops at the first value past either. Built on nlohmann's SAX interface, which
// is linear in the input (its callback parser rescans an array after every
// object in it, so a meta with n files took O(n^2): 7 s at 80,000 entries).
#pragma once
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace p2p {

struct JsonBounds {
  std::uint64_t max_values = 0;
  int max_depth = 0;
};

// What went wrong, when parse_bounded_json returns false.
enum class BoundedJsonProblem { none, malformed, too_many_values, too_deep };

// The bounds' bookkeeping, one event at a time: parse_bounded_json counts with it, and so
// does a SAX reader of its own (format/meta_reader) that builds no DOM.
class JsonBoundsCount {
 public:
  explicit JsonBoundsCount(JsonBounds bounds) : bounds_(bounds) {}
  // A scalar arrived: too_many_values past the bound, else none.
  BoundedJsonProblem value() {
    return ++values_ <= bounds_.max_values ? BoundedJsonProblem::none : BoundedJsonProblem::too_many_values;
  }
  // A container opened (one level deeper): too_deep or too_many_values past a bound, else none.
  BoundedJsonProblem open() { return ++depth_ > bounds_.max_depth ? BoundedJsonProblem::too_deep : value(); }
  void close() { --depth_; }
  // Room for `n` more values; and `n` values counted at once (a list read elsewhere).
  bool has_room(std::uint64_t n) const { return n <= bounds_.max_values && values_ <= bounds_.max_values - n; }
  void add(std::uint64_t n) { values_ += n; }
  int depth() const { return depth_; }  // containers open

 private:
  JsonBounds bounds_;
  std::uint64_t values_ = 0;
  int depth_ = 0;
};

// Parses `text` into `out`; false (and `problem` says why) if it is not JSON or crosses a bound.
bool parse_bounded_json(std::string_view text, const JsonBounds& bounds, nlohmann::json& out,
                        BoundedJsonProblem& problem);

}  // namespace p2p
