// Bencode writer and a strict, bounded recursive-descent reader. Every length
// and count is checked against what is left of the input before it is used.
#include "format/bencode.hpp"

#include <fmt/format.h>

#include <charconv>

#include "base/error.hpp"

namespace p2p::bencode {

void put_int(std::string& out, std::int64_t v) { fmt::format_to(std::back_inserter(out), "i{}e", v); }

void put_str(std::string& out, std::string_view s) {
  fmt::format_to(std::back_inserter(out), "{}:", s.size());
  out.append(s);
}

const Value* Value::find(std::string_view key) const {
  if (!is_dict()) return nullptr;
  auto it = as_dict().find(key);
  return it == as_dict().end() ? nullptr : &it->second;
}

namespace {

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  Value value(std::size_t depth) {
    if (depth > kMaxDepth) fail(fmt::format("nesting deeper than {}", kMaxDepth));
    if (++elements_ > kMaxElements) fail(fmt::format("more than {} elements", kMaxElements));
    char c = peek();
    if (c == 'i') {
      ++pos_;
      std::int64_t v = integer('e');
      return Value{v};
    }
    if (c >= '0' && c <= '9') return Value{string()};
    if (c == 'l') {
      ++pos_;
      List list;
      while (peek() != 'e') list.push_back(value(depth + 1));
      ++pos_;
      return Value{std::move(list)};
    }
    if (c == 'd') {
      ++pos_;
      Dict dict;
      std::string last;
      bool first = true;
      while (peek() != 'e') {
        std::size_t at = pos_;
        if (peek() < '0' || peek() > '9') fail("a dictionary key (a string)");
        std::string key = string();
        if (!first && key <= last) {
          pos_ = at;
          fail("dictionary keys in strictly increasing order");
        }
        Value v = value(depth + 1);
        first = false;
        last = key;
        dict.emplace(std::move(key), std::move(v));
      }
      ++pos_;
      return Value{std::move(dict)};
    }
    fail("i, l, d or a digit");
  }

  void end() {
    if (pos_ != in_.size()) fail("the end of the input after one value");
  }

 private:
  [[noreturn]] void fail(const std::string& expected) const {
    std::string seen = pos_ < in_.size() ? fmt::format("{:?}", in_[pos_]) : std::string("the end");
    throw Error(ExitCode::bad_meta, fmt::format("bencode: at offset {} expected {}, saw {}", pos_, expected, seen));
  }

  char peek() const {
    if (pos_ >= in_.size()) fail("more input");
    return in_[pos_];
  }

  // Digits up to `stop`, canonical: no leading zero, no "-0", no empty number.
  std::int64_t integer(char stop) {
    std::size_t end = in_.find(stop, pos_);
    if (end == std::string_view::npos || end - pos_ > 20) fail(fmt::format("a number ending in '{}'", stop));
    std::string_view digits = in_.substr(pos_, end - pos_);
    std::string_view magnitude = digits.starts_with('-') ? digits.substr(1) : digits;
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (magnitude.empty() || ec != std::errc() || p != digits.data() + digits.size() ||
        (magnitude.size() > 1 && magnitude[0] == '0') || digits == "-0" || magnitude[0] == '+')
      fail("a canonical integer");
    pos_ = end + 1;
    return v;
  }

  std::string string() {
    std::int64_t n = integer(':');
    if (n < 0) fail("a non-negative string length");
    if (static_cast<std::uint64_t>(n) > in_.size() - pos_)
      fail(fmt::format("{} bytes of string, {} left", n, in_.size() - pos_));
    std::string s(in_.substr(pos_, static_cast<std::size_t>(n)));
    pos_ += static_cast<std::size_t>(n);
    return s;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  std::size_t elements_ = 0;
};

void encode_to(std::string& out, const Value& v) {
  if (v.is_int()) return put_int(out, v.as_int());
  if (v.is_str()) return put_str(out, v.as_str());
  if (v.is_list()) {
    out += 'l';
    for (const Value& e : v.as_list()) encode_to(out, e);
    out += 'e';
    return;
  }
  out += 'd';
  for (const auto& [k, e] : v.as_dict()) {
    put_str(out, k);
    encode_to(out, e);
  }
  out += 'e';
}

}  // namespace

Value decode(std::string_view in) {
  Reader r(in);
  Value v = r.value(0);
  r.end();
  return v;
}

std::string encode(const Value& v) {
  std::string out;
  encode_to(out, v);
  return out;
}

}  // namespace p2p::bencode
