// PieceListAhead (format/piece_list_ahead.hpp) and the reader's use of it: a big meta
// file's pieces list is read on another thread, and whatever the bytes, load_meta of
// the file means exactly what parse_meta of the same text (one pass, no thread) means:
// the same meta, or the same refusal word for word.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fmt/core.h>
#include <random>

#include "base/error.hpp"
#include "base/file_io.hpp"
#include "format/meta.hpp"
#include "format/json_byte_source.hpp"
#include "format/piece_list_ahead.hpp"
#include "test_support.hpp"

using namespace p2p;
using nlohmann::json;

namespace {

// A valid tree meta of `n` one-piece files, pretty-printed as p2p-create writes it
// (well above the 512 KiB from which the list is read ahead when n >= 6000).
std::string big_tree_meta(std::size_t n) {
  json files = json::array(), pieces = json::array();
  std::vector<Digest> leaves;
  std::uint64_t size = 0;
  for (std::size_t i = 0; i < n; ++i) {
    files.push_back(json{{"path", fmt::format("d{:03}/f{:06}.bin", i / 100, i)}, {"size", 100 + i}});
    size += 100 + i;
    Digest d = sha256(std::to_string(i));
    leaves.push_back(d);
    pieces.push_back(to_hex(d));
  }
  json j{{"version", 3}, {"name", "tree"}, {"piece_size", 16384}, {"size", size}, {"files", files},
         {"pieces", pieces}, {"root", to_hex(merkle_root(leaves))}, {"created", 7}};
  json info = j;
  info.erase("created");
  j["info_hash"] = to_hex(sha256(info.dump()));
  return j.dump(1);
}

// What a meta text means: its info hash and piece count, or its refusal.
std::string meaning(const std::function<Meta()>& read) {
  try {
    Meta m = read();
    return fmt::format("ok {} {} {}", m.info_hash_hex(), m.pieces.size(), m.files.size());
  } catch (const Error& e) {
    return fmt::format("error {} {}", static_cast<int>(e.code()), e.what());
  }
}

// load_meta of the text in a file against parse_meta of the text; the messages name
// their origin, which is the file's path for one and "m" for the other.
void check_same_meaning(const test::TempDir& dir, const std::string& text) {
  auto path = dir / "m";
  write_file_atomically(path, text);
  std::string from_file = meaning([&] { return load_meta(path); });
  std::string from_text = meaning([&] { return parse_meta(text, path.string()); });
  REQUIRE(from_file == from_text);
}

std::string replace_first(std::string text, std::string_view what, std::string_view with) {
  auto at = text.find(what);
  REQUIRE(at != std::string::npos);
  return text.replace(at, what.size(), with);
}

}  // namespace

TEST_CASE("PieceListAhead finds the pieces array and reads it whole", "[meta][pieces_ahead][one_thread]") {
  test::TempDir dir;
  std::string text = big_tree_meta(7000);
  write_file_atomically(dir / "m", text);
  File file(dir / "m", File::Mode::read);
  PieceListAhead ahead(file, text.size());
  std::uint64_t begin = text.find('[', text.find("\"pieces\":"));
  CHECK(ahead.start_before(begin) == PieceListAhead::kNone);  // not below its own offset
  CHECK(ahead.start_before(text.size()) == begin);
  auto list = ahead.take();
  REQUIRE(list);
  CHECK(list->begin == begin);
  CHECK(text[list->end - 1] == ']');
  CHECK(list->tail_run == text.find(']', begin) + 1 - text.rfind('"', text.find(']', begin)) - 1);
  REQUIRE(list->pieces.size() == 7000);
  CHECK(list->pieces[6999] == sha256(std::to_string(6999)));
}

TEST_CASE("PieceListAhead leaves to the reader what is not plainly a list of digests", "[meta][pieces_ahead][one_thread]") {
  test::TempDir dir;
  std::string text = big_tree_meta(7000);
  auto first_digest = text.find('"', text.find('[', text.find("\"pieces\":")) + 1);
  for (std::string variant : {replace_first(text, "\"pieces\":", "\"pie\\u0063es\":"),          // key with an escape
                              text.substr(0, text.size() / 2 + 37),                             // cut short
                              replace_first(text, "\"pieces\": [", "\"pieces\": [[\"a\"], "),     // nested
                              std::string(text).replace(first_digest + 1, 1, "\\u0030"),        // escape in a digest
                              replace_first(text, "\"pieces\": [", "\"pieces\": [" + std::string(300, ' '))}) {
    write_file_atomically(dir / "m", variant);
    File file(dir / "m", File::Mode::read);
    PieceListAhead ahead(file, variant.size());
    CHECK_FALSE(ahead.take());
  }
}

TEST_CASE("a big meta file read with its list ahead means what one pass over the text means", "[meta][pieces_ahead][one_thread]") {
  test::TempDir dir;
  const std::string text = big_tree_meta(7000);
  REQUIRE(text.size() > (512u << 10));
  check_same_meaning(dir, text);
  auto pieces_at = text.find("\"pieces\":");
  auto list_at = text.find('[', pieces_at);
  auto list_end = text.find(']', list_at) + 1;
  std::vector<std::string> variants = {
      replace_first(text, "\"pieces\":", "\"pie\\u0063es\":"),                       // the key escaped
      replace_first(text, "\"pieces\": [", "\"pieces\": [" + std::string(300, ' ')),  // a long run
      replace_first(text, "\"pieces\": [", "\"pieces\": [7, "),                       // a number in the list
      replace_first(text, "\"pieces\": [", "\"pieces\": [\"ABC\", "),                 // not a digest
      replace_first(text, "\"pieces\": [", "\"pieces\": \"x\", \"p\": ["),            // not a list
      replace_first(text, "\"pieces\": [", "\"pieces\": [[], "),                      // nested
      replace_first(text, "\"pieces\": [", "\"pieces\": [], \"pieces\": ["),          // twice
      replace_first(text, "\"root\":", "\"root\" "),                                  // broken after the list
      replace_first(text, "\"size\":", "\"size\":: "),                                // broken after the list
      replace_first(text, "\"files\":", "\"files\" "),                                // broken before it
      text.substr(0, list_end - 10),                                                  // cut inside it
      text.substr(0, list_end),                                                       // cut after it
      text.substr(0, list_at + 1),                                                    // cut at its start
      text.substr(0, pieces_at) + text.substr(list_end + 1),                          // without it
  };
  // The list first, as a JSON tree writes it when keys are unsorted.
  nlohmann::ordered_json reordered;
  json parsed = json::parse(text);
  reordered["pieces"] = parsed["pieces"];
  for (auto& [k, v] : parsed.items())
    if (k != "pieces") reordered[k] = v;
  variants.push_back(reordered.dump(1));
  // A wrong digest in the list: the Merkle root says so.
  std::string wrong = text;
  wrong[text.find('"', list_at) + 5] = wrong[text.find('"', list_at) + 5] == 'a' ? 'b' : 'a';
  variants.push_back(wrong);
  for (const auto& v : variants) {
    INFO(v.size());
    check_same_meaning(dir, v);
  }
  // A long string in the list with a control character in it: which of the two refusals
  // comes first depends on how far the scan of slices is ahead of the parser. Slices end
  // at the same places with or without the list read ahead: a string placed where a slice
  // starting at the list's '[' would end, but a slice of the whole file would not.
  {
    constexpr std::size_t kSlice = 64 << 10, kLong = 24640 + 60;
    std::string v;
    for (auto at = text.find('"', list_at); at < list_end; at = text.find('"', text.find('"', at + 1) + 1)) {
      std::size_t from_list = (at - list_at) % kSlice, from_start = at % kSlice;
      if (from_list + 24640 >= kSlice && from_list + 20 < kSlice && from_start + kLong < kSlice - 100) {
        v = text;
        v.insert(at + 10, std::string(kLong, '\n'));
        break;
      }
    }
    REQUIRE_FALSE(v.empty());
    check_same_meaning(dir, v);
  }
  // Bytes changed at random, most of them in and around the list.
  std::mt19937_64 rng(21);
  const std::string alphabet = "\"\\[]{}:, a0\n";
  for (int round = 0; round < 60; ++round) {
    std::string v = text;
    for (int k = 0; k < 1 + round % 3; ++k) {
      std::size_t at = round % 4 == 0 ? rng() % v.size() : list_at - 64 + rng() % (list_end - list_at + 128);
      v[at] = alphabet[rng() % alphabet.size()];
    }
    INFO("round " << round);
    check_same_meaning(dir, v);
  }
}

TEST_CASE("JsonByteSource hands the parser \"[]\" where the list read ahead stood", "[meta][pieces_ahead][one_thread]") {
  test::TempDir dir;
  const std::string text = big_tree_meta(7000);
  write_file_atomically(dir / "m", text);
  File file(dir / "m", File::Mode::read);
  PieceListAhead ahead(file, text.size());
  JsonByteSource source(file, text.size(), 1 << 20);
  std::uint64_t begin = 0, end = 0;
  source.splice({[&](std::uint64_t limit) { return ahead.start_before(limit); },
                 [&]() -> std::optional<JsonByteSource::Cut> {
                   auto list = ahead.take();
                   REQUIRE(list);
                   begin = list->begin;
                   end = list->end;
                   return JsonByteSource::Cut{list->end, list->tail_run};
                 },
                 "[]"});
  std::string seen;
  for (auto it = source.begin(); it != source.end(); ++it) seen.push_back(*it);
  REQUIRE(end > begin);
  CHECK(seen == text.substr(0, begin) + "[]" + text.substr(end));
  CHECK(source.input_offset(begin) == begin);
  CHECK(source.input_offset(begin + 3) == end + 1);  // the byte after "[]" is the byte after the list
  CHECK_FALSE(source.long_token());
}
