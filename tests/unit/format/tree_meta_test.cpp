// Tree metas (format 3): creation from a folder, piece layout (every file on a piece
// boundary), canonical form, and every refusal of a hostile file list.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fmt/core.h>

#include "base/error.hpp"
#include "base/limits.hpp"
#include "format/meta.hpp"
#include "test_support.hpp"
#include "storage/meta_creation.hpp"

using namespace p2p;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {
// photos/ with nested files, an empty file, an executable, an empty folder, a link.
fs::path make_tree(test::TempDir& dir) {
  auto root = dir / "photos";
  fs::create_directories(root / "2024" / "june");
  fs::create_directories(root / "empty" / "deeper");
  test::write_file(root / "a.txt", test::random_bytes(20000, 1));        // 2 pieces of 16 KiB
  test::write_file(root / "2024" / "june" / "x.jpg", test::random_bytes(16384, 2));  // exactly 1
  test::write_file(root / "2024" / "zero", "");
  test::write_file(root / "run.sh", "#!/bin/sh\necho hi\n");
  ::chmod((root / "run.sh").c_str(), 0755);
  fs::create_symlink("/etc/passwd", root / "link");
  return root;
}

Meta tree_meta(const fs::path& root, std::vector<std::string>* warnings = nullptr) {
  return create_tree_meta(root, 16384, {}, false, [&](const std::string& w) {
    if (warnings) warnings->push_back(w);
  });
}

std::string rehashed(json j) {
  json info = j;
  for (auto k : {"info_hash", "trackers", "created"}) info.erase(k);
  j["info_hash"] = to_hex(sha256(info.dump()));
  return j.dump();
}

std::string tree_error_of(const std::string& text) {
  try {
    parse_meta(text, "tree.p2pmeta");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::bad_meta);
    return e.what();
  }
  return "";
}

// A minimal valid tree meta's JSON with the given entries (all files empty: no pieces).
json tree_json(const json& files, const json& dirs = json::array()) {
  json j{{"version", 3}, {"name", "t"}, {"piece_size", 16384}, {"size", 0}, {"files", files},
         {"pieces", json::array()}, {"root", std::string(64, '0')}, {"trackers", json::array()}, {"created", 0}};
  if (!dirs.empty()) j["dirs"] = dirs;
  return j;
}
json empty_file(const std::string& path) { return json{{"path", path}, {"size", 0}}; }
}  // namespace

TEST_CASE("a tree meta lists files sorted, exec bits, empty files and folders; links are skipped", "[meta][tree]") {
  test::TempDir dir;
  auto root = make_tree(dir);
  std::vector<std::string> warnings;
  Meta m = tree_meta(root, &warnings);
  REQUIRE(m.is_tree());
  CHECK(m.version == 3);
  CHECK(m.name == "photos");
  REQUIRE(m.files.size() == 4);
  CHECK(m.files[0].path == "2024/june/x.jpg");
  CHECK(m.files[1].path == "2024/zero");
  CHECK(m.files[2].path == "a.txt");
  CHECK(m.files[3].path == "run.sh");
  CHECK(m.files[3].executable);
  CHECK_FALSE(m.files[2].executable);
  CHECK(m.empty_dirs == std::vector<std::string>{"empty/deeper"});
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("link") != std::string::npos);
  // Layout: x.jpg piece 0, zero none, a.txt pieces 1-2, run.sh piece 3.
  CHECK(m.size == 16384 + 0 + 20000 + 18);
  CHECK(m.piece_count() == 4);
  CHECK(m.files[1].piece_count == 0);
  CHECK(m.files[2].first_piece == 1);
  CHECK(m.files[2].piece_count == 2);
  CHECK(m.file_of_piece(0) == 0);
  CHECK(m.file_of_piece(1) == 2);
  CHECK(m.file_of_piece(2) == 2);
  CHECK(m.file_of_piece(3) == 3);
  CHECK(m.piece_offset(2) == 16384);
  CHECK(m.piece_length(2) == 20000 - 16384);
  CHECK(m.piece_length(3) == 18);
  CHECK(m.piece_lengths() == std::vector<std::uint32_t>{16384, 16384, 20000 - 16384, 18});
  // Every file starts on a piece boundary: piece 1 is a.txt's first 16 KiB alone.
  std::string a = read_small_file(root / "a.txt", 1 << 20);
  CHECK(m.pieces[1] == sha256(std::string_view(a).substr(0, 16384)));
  CHECK(m.pieces[2] == sha256(std::string_view(a).substr(16384)));

  Meta back = parse_meta(meta_to_json(m), "round trip");
  CHECK(back.info_hash == m.info_hash);
  CHECK(back.files.size() == 4);
  CHECK(back.files[2].first_piece == 1);
  CHECK(back.empty_dirs == m.empty_dirs);
  CHECK(canonical_info(back) == canonical_info(m));
  json info = json::parse(canonical_info(m));
  CHECK(info["files"][3]["exec"] == true);
  CHECK_FALSE(info["files"][2].contains("exec"));
}

TEST_CASE("single files stay format 2 with the same info hash", "[meta][tree]") {
  test::TempDir dir;
  test::write_file(dir / "f", test::random_bytes(1000, 3));
  Meta m = create_meta(dir / "f", 16384, {});
  CHECK(m.version == 2);
  CHECK_FALSE(m.is_tree());
  CHECK(json::parse(canonical_info(m)).contains("files") == false);
}

TEST_CASE("a tree of only an empty folder and an empty tree are valid", "[meta][tree]") {
  test::TempDir dir;
  fs::create_directories(dir / "t" / "only");
  Meta m = tree_meta(dir / "t");
  CHECK(m.files.empty());
  CHECK(m.empty_dirs == std::vector<std::string>{"only"});
  CHECK(parse_meta(meta_to_json(m), "x").info_hash == m.info_hash);
  fs::remove(dir / "t" / "only");
  Meta e = tree_meta(dir / "t");
  CHECK(e.piece_count() == 0);
  CHECK(parse_meta(meta_to_json(e), "x").empty_dirs.empty());
}

TEST_CASE("hostile file lists are refused at parse", "[meta][tree]") {
  auto refused = [](const json& files, const json& dirs, const std::string& why) {
    INFO(files.dump() << " " << dirs.dump());
    CHECK_THAT(tree_error_of(rehashed(tree_json(files, dirs))), Catch::Contains(why));
  };
  auto files = [](std::initializer_list<const char*> paths) {
    json a = json::array();
    for (auto p : paths) a.push_back(empty_file(p));
    return a;
  };
  json none = json::array();
  refused(files({"../evil"}), none, "relative path component");
  refused(files({"a/../../evil"}), none, "relative path component");
  refused(files({"/etc/passwd"}), none, "absolute");
  refused(files({"a//b"}), none, "empty");
  refused(files({"a/"}), none, "empty");
  refused(files({""}), none, "empty");
  refused(files({"./a"}), none, "relative path component");
  refused(files({"a\\b"}), none, "path separator");
  refused(files({"a\nb"}), none, "control character");
  refused(files({".p2p/x"}), none, "reserved");
  refused(files({"x/.p2p"}), none, "reserved");
  {
    std::string text = rehashed(tree_json(files({"aZZ"})));
    text.replace(text.find("aZZ"), 3, "a\xff");  // not valid UTF-8: the JSON parser already refuses it
    CHECK_FALSE(tree_error_of(text).empty());
  }
  refused(files({"a", "a"}), none, "listed twice");
  refused(files({"b", "a"}), none, "sorted");
  refused(files({"a", "a.txt", "a/b"}), none, "both a file and a folder");
  refused(files({"a"}), json::array({"a"}), "both as a file and as an empty folder");
  refused(files({"d/f"}), json::array({"d"}), "holds files");
  refused(none, json::array({"d", "d/e"}), "holds files");
  refused(none, json::array({"e", "d"}), "sorted");
  refused(none, json::array({"e", "e"}), "listed twice");
  refused(none, json::array({"../up"}), "relative path component");
  std::string deep;
  for (std::size_t i = 0; i <= limits::kMaxPathDepth; ++i) deep += (i ? "/d" : "d");
  refused(json::array({empty_file(deep)}), none, "components");
  std::string longp;
  while (longp.size() <= limits::kMaxPathBytes) longp += "abcdefgh/";
  longp += "f";
  refused(json::array({empty_file(longp)}), none, "longer than");
  refused(json::array({json{{"path", "a"}, {"size", 0}, {"mode", 7}}}), none, "unknown field");
  refused(json::array({json{{"path", "a"}, {"size", 0}, {"exec", 1}}}), none, "exec");
  refused(json::array({json{{"path", 5}, {"size", 0}}}), none, "must be a string");
  refused(json::array({"a"}), none, "must be an object");
}

TEST_CASE("tree sizes and piece counts must agree with the file list", "[meta][tree]") {
  test::TempDir dir;
  auto root = make_tree(dir);
  Meta m = tree_meta(root);
  json j = json::parse(meta_to_json(m));
  json bad = j;
  bad["size"] = m.size + 1;
  CHECK_THAT(tree_error_of(rehashed(bad)), Catch::Contains("not the sum"));
  bad = j;
  bad["files"][2]["size"] = 16384;  // a.txt now needs 1 piece, not 2
  bad["size"] = m.size - (20000 - 16384);
  CHECK_THAT(tree_error_of(rehashed(bad)), Catch::Contains("pieces"));
  bad = j;
  bad["file_sha256"] = std::string(64, 'a');
  CHECK_THAT(tree_error_of(rehashed(bad)), Catch::Contains("file_sha256"));
  bad = j;
  bad["files"][3].erase("exec");  // the info hash commits to the exec bit
  CHECK_THAT(tree_error_of(bad.dump()), Catch::Contains("does not match"));
  bad = j;
  bad["version"] = 4;
  CHECK_THAT(tree_error_of(rehashed(bad)), Catch::Contains("not supported"));
  bad = j;
  bad["version"] = 2;  // a tree read as a single file: its files are ignored, its size/pieces disagree
  CHECK_FALSE(tree_error_of(rehashed(bad)).empty());
}

TEST_CASE("the entry count is bounded; a million entries parse", "[meta][tree][.slow][one_thread]") {
  // Not run by default (a few seconds): the benchmark parses such a meta.
  json files = json::array();
  for (std::uint64_t i = 0; i < 1000000; ++i) files.push_back(empty_file(fmt::format("d{:03}/f{:07}", i / 10000, i)));
  auto start = std::chrono::steady_clock::now();
  Meta m = parse_meta(rehashed(tree_json(files)), "big");
  CHECK(m.files.size() == 1000000);
  WARN("1,000,000 entries parsed in "
       << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s");
}

TEST_CASE("creating a tree: --sha256-free, unreadable files named", "[meta][tree]") {
  test::TempDir dir;
  auto root = make_tree(dir);
  if (::geteuid() != 0) {  // root reads anything
    ::chmod((root / "a.txt").c_str(), 0);
    try {
      tree_meta(root);
      FAIL("an unreadable file was hashed");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::input_file);
      CHECK_THAT(std::string(e.what()), Catch::Contains("a.txt"));
    }
  }
  fs::create_directories(dir / "bad");
  test::write_file(dir / "bad" / "a\x01", "x");
  CHECK_THROWS_AS(tree_meta(dir / "bad"), Error);
}
