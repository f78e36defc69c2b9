// The streaming meta reader (format/meta_reader.cpp): the same meta in any JSON
// spelling reads the same (escapes, key order, spacing, slices of a file), its info
// hash is what the JSON tree gave, and every bound on the work a meta asks for is
// enforced while it is read, naming the bound.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fmt/core.h>
#include <random>
#include <set>

#include "base/error.hpp"
#include "base/file_io.hpp"
#include "base/limits.hpp"
#include "format/json_byte_source.hpp"
#include "format/meta.hpp"
#include "format/tree_listing.hpp"
#include "test_support.hpp"

using namespace p2p;
using nlohmann::json;

namespace {

std::string error_of(std::string_view text) {
  try {
    parse_meta(text, "m");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::bad_meta);
    return e.what();
  }
  return "";
}

// The info hash as the JSON tree computed it: every field but the three outside the info, dumped compact.
std::string with_info_hash(json j) {
  json info = j;
  for (auto k : {"info_hash", "trackers", "created", "swarm_key"}) info.erase(k);
  j["info_hash"] = to_hex(sha256(info.dump()));
  return j.dump();
}

Digest reader_digest(std::uint64_t seed) {
  Digest d{};
  std::mt19937_64 rng(seed);
  for (auto& b : d) b = static_cast<std::uint8_t>(rng());
  return d;
}

// A valid tree meta (format 3) with the given file paths (sorted by the caller), one piece each.
json tree_with(const std::vector<std::string>& paths, const std::vector<std::string>& dirs = {}) {
  json files = json::array(), pieces = json::array();
  std::vector<Digest> leaves;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    json e{{"path", paths[i]}, {"size", 100 + i}};
    if (i % 3 == 1) e["exec"] = true;
    files.push_back(e);
    leaves.push_back(reader_digest(i));
    pieces.push_back(to_hex(leaves.back()));
  }
  std::uint64_t size = 0;
  for (std::size_t i = 0; i < paths.size(); ++i) size += 100 + i;
  json j{{"version", 3}, {"name", "tree"}, {"piece_size", 16384}, {"size", size}, {"files", files},
         {"pieces", pieces}, {"root", to_hex(merkle_root(leaves))}, {"trackers", json::array()}, {"created", 7}};
  if (!dirs.empty()) j["dirs"] = dirs;
  return j;
}

// Every ASCII letter inside a string written as \u00XX, non-ASCII as UTF-16 escapes:
// valid JSON with the same values.
std::string escape_everything(const std::string& compact) {
  std::string out = json::parse(compact).dump(-1, ' ', /*ensure_ascii=*/true), result;
  bool in_string = false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    if (!in_string) {
      result += c;
      in_string = c == '"';
      continue;
    }
    if (c == '\\') {  // an escape as it is: \u and 4 digits, or one character
      std::size_t n = out[i + 1] == 'u' ? 6 : 2;
      result += out.substr(i, n);
      i += n - 1;
      continue;
    }
    if (c == '"') in_string = false;
    if (std::isalpha(static_cast<unsigned char>(c))) result += fmt::format("\\u{:04X}", static_cast<unsigned>(c));
    else result += c;
  }
  return result;
}

}  // namespace

TEST_CASE("one meta in many spellings reads the same, with the info hash of the JSON tree", "[meta][reader]") {
  std::vector<std::string> paths = {"Photos 2024/été/a.jpg", "a \"quoted\" name", "dir/sub/x", "dir/y",
                                    "データ/ファイル.txt", "z/\xf0\x9f\x98\x80.bin"};
  std::sort(paths.begin(), paths.end());
  json j = tree_with(paths, {"empty/deeper", "empty2"});
  std::string compact = with_info_hash(j);
  std::string expected_hash = json::parse(compact)["info_hash"];
  json info = json::parse(compact);
  for (auto k : {"info_hash", "trackers", "created"}) info.erase(k);
  const std::string expected_info = info.dump();
  json parsed = json::parse(compact);
  std::vector<std::string> spellings = {compact, parsed.dump(1), parsed.dump(4) + "\n\n", parsed.dump(-1, ' ', true),
                                        escape_everything(compact)};
  // Keys in another order (nlohmann's ordered_json keeps insertion order): reversed.
  nlohmann::ordered_json reversed;
  std::vector<std::string> keys;
  for (auto& [k, v] : parsed.items()) keys.push_back(k);
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) reversed[*it] = parsed[*it];
  spellings.push_back(reversed.dump(2));
  // "\/" is a legal escape of '/'.
  std::string slashed = compact;
  for (std::size_t at = 0; (at = slashed.find("dir/", at)) != std::string::npos; at += 5) slashed.replace(at, 4, "dir\\/");
  spellings.push_back(slashed);
  for (const auto& text : spellings) {
    INFO(text.substr(0, 200));
    Meta m = parse_meta(text, "spelling");
    CHECK(m.info_hash_hex() == expected_hash);
    CHECK(m.files.size() == paths.size());
    CHECK(m.files[0].path == paths[0]);
    CHECK(m.files[1].executable);
    CHECK(m.empty_dirs == std::vector<std::string>{"empty/deeper", "empty2"});
    CHECK(m.created == 7);
    CHECK(canonical_info(m) == expected_info);
  }
}

TEST_CASE("a meta read from a file in slices equals the same text parsed whole", "[meta][reader]") {
  test::TempDir dir;
  std::vector<std::string> paths;
  for (int i = 0; i < 12000; ++i) paths.push_back(fmt::format("folder {:03}/\"file\" {:05}.bin", i / 100, i));
  std::sort(paths.begin(), paths.end());
  std::string text = json::parse(with_info_hash(tree_with(paths))).dump(1);
  REQUIRE(text.size() > 1u << 20);  // crosses the reader's 1 MiB slices
  write_file_atomically(dir / "big.p2pmeta", text);
  Meta a = load_meta(dir / "big.p2pmeta");
  Meta b = parse_meta(text, "text");
  CHECK(a.info_hash == b.info_hash);
  REQUIRE(a.files.size() == 12000);
  for (std::size_t i = 0; i < a.files.size(); ++i) REQUIRE(a.files[i].path == paths[i]);
}

TEST_CASE("JsonByteSource: tokens across slices; a long string or a long stretch stops the bytes", "[meta][reader]") {
  auto drain = [](JsonByteSource& s) {
    std::string out;
    for (auto it = s.begin(); it != s.end(); ++it) out.push_back(*it);
    return out;
  };
  std::string ok = "{\"a\":\"" + std::string(100, 'x') + "\\\"" + std::string(50, 'y') + "\"}";
  JsonByteSource s1(ok, 200);
  CHECK(drain(s1) == ok);
  CHECK_FALSE(s1.long_token());
  std::string long_string = "{\"a\":\"" + std::string(300, 'x') + "\"}";
  JsonByteSource s2(long_string, 200);
  std::string got = drain(s2);
  REQUIRE(s2.long_token());
  CHECK(s2.long_token()->in_string);
  CHECK(s2.long_token()->at == 5);
  CHECK(got.size() == 5 + 200);  // the string's first 200 bytes, no more
  std::string spaces = "{\"a\":" + std::string(300, ' ') + "1}";
  JsonByteSource s3(spaces, 200);
  drain(s3);
  REQUIRE(s3.long_token());
  CHECK_FALSE(s3.long_token()->in_string);
  // An escaped quote does not end a string; a backslash at the end of a slice escapes the next one.
  std::string big = "[\"" + std::string((1 << 20) - 3, 'a') + "\\\"b\"]";
  JsonByteSource s4(big, 2u << 20);
  CHECK(drain(s4) == big);
  JsonByteSource s5(big, 1u << 19);
  drain(s5);
  CHECK(s5.long_token());
}

TEST_CASE("FolderWalk counts each folder of a sorted list once", "[meta][reader]") {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::string> paths;
    for (int i = 0; i < 200; ++i) {
      std::string p;
      int depth = 1 + static_cast<int>(rng() % 5);
      for (int d = 0; d < depth; ++d) p += (d ? "/" : "") + std::string(1, "ab-/"[rng() % 3]) + std::string(rng() % 2, 'c');
      paths.push_back(p);
    }
    std::sort(paths.begin(), paths.end());
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
    std::set<std::string> folders;
    FolderWalk walk;
    std::uint64_t reported = 0;
    for (std::size_t i = 0; i < paths.size(); ++i) {
      // A listed folder holds nothing (the reader checks that before it counts).
      bool is_folder = i % 4 == 0 && std::none_of(paths.begin(), paths.end(), [&](const std::string& o) {
                         return o.size() > paths[i].size() && o.starts_with(paths[i] + "/");
                       });
      std::string_view p = paths[i];
      if (!is_folder) p = p.substr(0, p.rfind('/') == std::string_view::npos ? 0 : p.rfind('/'));
      for (std::size_t k = 1; k <= p.size(); ++k)
        if (k == p.size() || p[k] == '/') folders.insert(std::string(p.substr(0, k)));
      reported += walk.add(paths[i], is_folder, [&](std::string_view f) { CHECK(folders.count(std::string(f))); });
    }
    CHECK(walk.folders() == folders.size());
    CHECK(reported == folders.size());
  }
}

TEST_CASE("the work a tree asks for is bounded while it is read", "[meta][reader][one_thread]") {
  // More folders than kMaxTreeFolders: empty folders, each a new one.
  {
    std::string text = R"({"version":3,"name":"t","piece_size":16384,"size":0,"files":[],"dirs":[)";
    for (std::uint64_t i = 0; i <= limits::kMaxTreeFolders; ++i) text += fmt::format("{}\"{:07}\"", i ? "," : "", i);
    text += R"(],"pieces":[],"root":")" + std::string(64, '0') + R"(","info_hash":")" + std::string(64, '0') + "\"}";
    CHECK_THAT(error_of(text), Catch::Contains("kMaxTreeFolders") && Catch::Contains("dirs[262144]"));
  }
  // Deep paths: components past kMaxTreePathComponents (64 a path).
  {
    std::string deep;
    for (int d = 0; d < 63; ++d) deep += "d/";
    std::string text = R"({"version":3,"name":"t","piece_size":16384,"size":0,"dirs":[)";
    std::uint64_t n = limits::kMaxTreePathComponents / 64 + 1;
    for (std::uint64_t i = 0; i < n; ++i) text += fmt::format("{}\"{}{:07}\"", i ? "," : "", deep, i);
    text += "]}";
    CHECK_THAT(error_of(text), Catch::Contains("kMaxTreePathComponents"));
  }
  // Path bytes past kMaxTreePathBytes: long names, few folders.
  {
    std::string text = R"({"version":3,"name":"t","piece_size":16384,"size":0,"files":[)";
    std::string name(250, 'n');
    std::uint64_t n = limits::kMaxTreePathBytes / 501 + 1;  // 501-byte paths
    for (std::uint64_t i = 0; i < n; ++i)
      text += fmt::format("{}{{\"path\":\"{}{:07}/{}\",\"size\":0}}", i ? "," : "", name.substr(7), i, name);
    text += "]}";
    CHECK_THAT(error_of(text), Catch::Contains("kMaxTreePathBytes"));
  }
  // Entries past kMaxTreeEntries (files at the top: no folders at all).
  {
    std::string text = R"({"version":3,"name":"t","piece_size":16384,"size":0,"files":[)";
    for (std::uint64_t i = 0; i <= limits::kMaxTreeEntries; ++i)
      text += fmt::format("{}{{\"path\":\"{:08}\",\"size\":0}}", i ? "," : "", i);
    text += "]}";
    CHECK_THAT(error_of(text), Catch::Contains("kMaxTreeEntries"));
  }
}

TEST_CASE("hostile JSON costs bounded memory: long tokens, stretches, values, duplicates", "[meta][reader]") {
  std::string huge_name = R"({"version":2,"name":")" + std::string(50u << 20, 'x') + "\"}";
  CHECK_THAT(error_of(huge_name), Catch::Contains("longer than"));
  std::string spaces = "{" + std::string(1u << 20, ' ') + "}";
  CHECK_THAT(error_of(spaces), Catch::Contains("without a string"));
  std::string digits = R"({"size":)" + std::string(1u << 20, '1') + "}";
  CHECK_THAT(error_of(digits), Catch::Contains("without a string"));
  std::string values = R"({"junk":[)";
  for (std::uint64_t i = 0; i <= limits::kMaxMetaJsonValues; ++i) values += i ? ",\"\"" : "\"\"";
  values += "]}";
  CHECK_THAT(error_of(values), Catch::Contains("JSON values"));
  CHECK_THAT(error_of(R"({"name":"a","name":"b"})"), Catch::Contains("twice"));
  CHECK_THAT(error_of(R"({"junk":[[[1]]]})"), Catch::Contains("deeper"));
  CHECK_THAT(error_of("[]"), Catch::Contains("top level"));
  CHECK_THAT(error_of(R"({"a":1} {"b":2})"), Catch::Contains("not valid JSON"));
  CHECK_THAT(error_of(R"({"version":2,"files":[]})"), Catch::Contains("not valid JSON") || Catch::Contains("missing"));
}

TEST_CASE("a tree's listing rules hold across files and folders", "[meta][reader]") {
  auto tree_error = [](std::vector<std::string> paths, std::vector<std::string> dirs = {}) {
    return error_of(with_info_hash(tree_with(paths, dirs)));
  };
  CHECK(tree_error({"a", "b/c"}, {"d"}).empty());
  CHECK_THAT(tree_error({"a", "a-b", "a/b"}), Catch::Contains("both a file and a folder"));
  CHECK_THAT(tree_error({"a"}, {"a/b"}), Catch::Contains("both a file and a folder"));
  CHECK_THAT(tree_error({"a"}, {"a"}), Catch::Contains("listed both as a file and as an empty folder"));
  CHECK_THAT(tree_error({"a-x", "a/b"}, {"a"}), Catch::Contains("holds files or folders"));
  CHECK_THAT(tree_error({}, {"a", "a-x", "a/b"}), Catch::Contains("holds files or folders"));
  CHECK_THAT(tree_error({"b", "a"}), Catch::Contains("sorted"));
  CHECK_THAT(tree_error({"a", "a"}), Catch::Contains("twice"));
  CHECK_THAT(tree_error({"../x"}), Catch::Contains("files[0].path"));
  json v2 = tree_with({"a"});
  v2["version"] = 2;
  CHECK_THAT(error_of(with_info_hash(v2)), Catch::Contains("belong to a folder's meta"));
}
