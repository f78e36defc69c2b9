// Bounded JSON: nlohmann's DOM builder behind a SAX adapter that counts values and depth.
#include "format/bounded_json.hpp"

#include <nlohmann/json.hpp>

namespace p2p {

namespace {

using json = nlohmann::json;
using DomBuilder = nlohmann::detail::json_sax_dom_parser<json>;

// sax_parse calls these by name on the static type, so hiding the builder's
// members is enough: each event is counted, then handed on.
class BoundedDomBuilder : public DomBuilder {
 public:
  BoundedDomBuilder(json& out, const JsonBounds& bounds) : DomBuilder(out, /*allow_exceptions=*/false), count_(bounds) {}

  BoundedJsonProblem problem() const { return problem_; }

  bool null() { return value() && DomBuilder::null(); }
  bool boolean(bool v) { return value() && DomBuilder::boolean(v); }
  bool number_integer(json::number_integer_t v) { return value() && DomBuilder::number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return value() && DomBuilder::number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) { return value() && DomBuilder::number_float(v, s); }
  bool string(json::string_t& s) { return value() && DomBuilder::string(s); }
  bool binary(json::binary_t& b) { return value() && DomBuilder::binary(b); }
  bool start_object(std::size_t n) { return open() && DomBuilder::start_object(n); }
  bool end_object() {
    count_.close();
    return DomBuilder::end_object();
  }
  bool start_array(std::size_t n) { return open() && DomBuilder::start_array(n); }
  bool end_array() {
    count_.close();
    return DomBuilder::end_array();
  }
  bool parse_error(std::size_t at, const std::string& token, const nlohmann::detail::exception& e) {
    if (problem_ == BoundedJsonProblem::none) problem_ = BoundedJsonProblem::malformed;
    return DomBuilder::parse_error(at, token, e);
  }

 private:
  bool value() { return ok(count_.value()); }
  bool open() { return ok(count_.open()); }
  bool ok(BoundedJsonProblem p) {
    if (p == BoundedJsonProblem::none) return true;
    problem_ = p;
    return false;
  }

  JsonBoundsCount count_;
  BoundedJsonProblem problem_ = BoundedJsonProblem::none;
};

}  // namespace

bool parse_bounded_json(std::string_view text, const JsonBounds& bounds, json& out, BoundedJsonProblem& problem) {
  out = json();
  BoundedDomBuilder builder(out, bounds);
  bool ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json, /*strict=*/true) &&
            !builder.is_errored();
  problem = builder.problem();
  if (ok) return true;
  if (problem == BoundedJsonProblem::none) problem = BoundedJsonProblem::malformed;
  out = json();
  return false;
}

}  // namespace p2p
