// Bencoding (BEP 3): the encoding of BitTorrent tracker answers and .torrent files.
// Debian packages no C or C++ bencode library, so this is a small codec of our own:
// writers that append to a string, and a bounded, fuzzed decoder (tests/fuzz).
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace p2p::bencode {

// --- writing: the tracker builds answers in place, keys in sorted order by hand ---
void put_int(std::string& out, std::int64_t v);      // i42e
void put_str(std::string& out, std::string_view s);  // 4:spam

// --- reading ---
struct Value;
using List = std::vector<Value>;
using Dict = std::map<std::string, Value, std::less<>>;  // bencode keys are byte strings, sorted
struct Value {
  std::variant<std::int64_t, std::string, List, Dict> v;

  bool is_int() const { return v.index() == 0; }
  bool is_str() const { return v.index() == 1; }
  bool is_list() const { return v.index() == 2; }
  bool is_dict() const { return v.index() == 3; }
  std::int64_t as_int() const { return std::get<0>(v); }
  const std::string& as_str() const { return std::get<1>(v); }
  const List& as_list() const { return std::get<2>(v); }
  const Dict& as_dict() const { return std::get<3>(v); }
  // The dict's value for key, or nullptr (also when this is not a dict).
  const Value* find(std::string_view key) const;
};

// Nesting beyond this is not a tracker answer or a torrent: refused before the stack is.
constexpr std::size_t kMaxDepth = 64;
// Elements in all (each costs a Value): bounds the memory a small input can claim.
constexpr std::size_t kMaxElements = 1'000'000;

// Decodes exactly one value filling all of `in`. Strict (canonical) form: no leading
// zeros, no "-0", dict keys strictly increasing. Throws Error(bad_meta) naming the
// offset and what was expected on anything else.
Value decode(std::string_view in);

// Canonical encoding of a decoded value (decode(encode(v)) == v).
std::string encode(const Value& v);

}  // namespace p2p::bencode
