// Meta: creation, round trip, and every rejection of a hostile or broken meta.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "format/meta.hpp"
#include "test_support.hpp"

using namespace p2p;
using nlohmann::json;

namespace {
Meta make_meta(test::TempDir& dir, std::size_t size, std::uint64_t piece_size = 0) {
  auto path = dir / "file.bin";
  test::write_file(path, test::random_bytes(size, size + 7));
  return create_meta(path, piece_size, {});
}

// Re-serialise a meta after editing its JSON, keeping the info hash consistent unless told not to.
std::string edited(const Meta& m, const std::function<void(json&)>& edit, bool rehash = true) {
  json j = json::parse(meta_to_json(m));
  edit(j);
  if (rehash) {
    json info = j;
    for (auto k : {"info_hash", "trackers", "created"}) info.erase(k);
    j["info_hash"] = to_hex(sha256(info.dump()));
  }
  return j.dump();
}

ExitCode code_of(const std::string& text) {
  try {
    parse_meta(text, "test.p2pmeta");
  } catch (const Error& e) {
    return e.code();
  }
  return ExitCode::ok;
}

std::string message_of(const std::string& text) {
  try {
    parse_meta(text, "test.p2pmeta");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("automatic piece size gives 500-1,000 pieces within 16 KiB-16 MiB", "[meta]") {
  CHECK(auto_piece_size(0) == 16 * 1024);
  CHECK(auto_piece_size(1) == 16 * 1024);
  CHECK(auto_piece_size(32ull << 20) == 64 * 1024);  // 512 pieces (the swarm benchmark's file)
  CHECK(auto_piece_size(1ull << 30) == 2 * 1024 * 1024);  // 512 pieces
  for (std::uint64_t size : {100ull << 20, 1ull << 30, 7ull << 30}) {
    auto n = piece_count_for(size, auto_piece_size(size));
    CHECK(n >= 500);
    CHECK(n <= 1000);
  }
  CHECK(auto_piece_size(50ull << 30) == 16 * 1024 * 1024);  // the largest piece: 3,200 pieces
  CHECK(auto_piece_size(1ull << 50) == 16 * 1024 * 1024);
}

TEST_CASE("create and parse round trip", "[meta]") {
  test::TempDir dir;
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{16384}, std::size_t{16385}, std::size_t{1000000}}) {
    Meta m = make_meta(dir, size, 16384);
    CHECK(m.size == size);
    CHECK(m.piece_count() == (size + 16383) / 16384);
    CHECK(m.name == "file.bin");
    std::string content = read_small_file(dir / "file.bin", 1 << 30);
    CHECK(m.file_hash == sha256(content));
    if (size > 0) {
      CHECK(m.pieces[0] == sha256(std::string_view(content).substr(0, 16384)));
      CHECK(m.piece_length(m.piece_count() - 1) == (size % 16384 ? size % 16384 : 16384));
    }
    Meta back = parse_meta(meta_to_json(m), "x");
    CHECK(back.info_hash == m.info_hash);
    CHECK(back.pieces == m.pieces);
    CHECK(back.size == m.size);
  }
}

TEST_CASE("hashing many pieces in parallel matches a sequential hash", "[meta]") {
  test::TempDir dir;
  Meta m = make_meta(dir, 9 * 1024 * 1024 + 123, 16384);  // spans several 4 MiB chunks
  std::string content = read_small_file(dir / "file.bin", 1 << 30);
  for (std::uint32_t i = 0; i < m.piece_count(); ++i)
    REQUIRE(m.pieces[i] == sha256(std::string_view(content).substr(std::size_t{i} * 16384, m.piece_length(i))));
}

TEST_CASE("info hash covers the immutable part only", "[meta]") {
  test::TempDir dir;
  Meta m = make_meta(dir, 50000);
  Meta with_tracker = parse_meta(edited(m, [](json& j) { j["trackers"] = {"127.0.0.1:7000"}; }), "x");
  CHECK(with_tracker.info_hash == m.info_hash);
  Meta renamed = parse_meta(edited(m, [](json& j) { j["name"] = "other.bin"; }), "x");
  CHECK(renamed.info_hash != m.info_hash);
}

TEST_CASE("meta rejections", "[meta]") {
  test::TempDir dir;
  Meta m = make_meta(dir, 50000, 16384);  // 4 pieces

  CHECK(code_of("not json") == ExitCode::bad_meta);
  CHECK(code_of("[]") == ExitCode::bad_meta);
  CHECK(code_of("{}") == ExitCode::bad_meta);
  CHECK(code_of(edited(m, [](json& j) { j["size"] = "50000"; })) == ExitCode::bad_meta);
  CHECK(code_of(edited(m, [](json& j) { j["size"] = -1; })) == ExitCode::bad_meta);
  CHECK(code_of(edited(m, [](json& j) { j["size"] = 70000; })) == ExitCode::bad_meta);  // 5 pieces needed
  CHECK(code_of(edited(m, [](json& j) { j["piece_size"] = 20000; })) == ExitCode::bad_meta);
  CHECK(code_of(edited(m, [](json& j) { j["piece_size"] = 8192; })) == ExitCode::bad_meta);
  CHECK(code_of(edited(m, [](json& j) { j["pieces"][0] = "abc"; })) == ExitCode::bad_meta);
  CHECK(code_of(edited(m, [](json& j) { j["pieces"] = "x"; })) == ExitCode::bad_meta);
  CHECK(code_of(edited(m, [](json& j) { j["version"] = 2; })) == ExitCode::bad_meta);
  CHECK(code_of(edited(m, [](json& j) { j.erase("file_sha256"); })) == ExitCode::bad_meta);
  CHECK(code_of(edited(m, [](json& j) { j["trackers"] = {"no-port"}; })) == ExitCode::bad_meta);
  CHECK(code_of(edited(m, [](json& j) { j["created"] = "yesterday"; })) == ExitCode::bad_meta);
  // Stated info hash that does not match the content.
  CHECK(message_of(edited(m, [](json& j) { j["size"] = 49999; }, false)).find("does not match") != std::string::npos);

  for (std::string bad : std::vector<std::string>{"../etc/passwd", "..", ".", "/etc/passwd", "a/b", "a\\b", std::string("a\0b", 3),
                          std::string("a\nb"), std::string("a\x1b[2Jb"), std::string(300, 'x'), std::string()}) {
    INFO("name: " << bad);
    CHECK(code_of(edited(m, [&](json& j) { j["name"] = bad; })) == ExitCode::bad_meta);
  }
  CHECK(message_of(edited(m, [](json& j) { j["name"] = "../x"; })).find("test.p2pmeta") != std::string::npos);
}

TEST_CASE("a huge piece count is refused before allocating", "[meta]") {
  json j{{"version", 1}, {"name", "x"}, {"size", 1ull << 60}, {"piece_size", 16384}, {"pieces", json::array()},
         {"file_sha256", std::string(64, '0')}, {"info_hash", std::string(64, '0')}};
  CHECK(message_of(j.dump()).find("allowed") != std::string::npos);
}

TEST_CASE("missing and unreadable files give input errors", "[meta]") {
  test::TempDir dir;
  CHECK_THROWS_AS(load_meta(dir / "nope.p2pmeta"), Error);
  try {
    load_meta(dir / "nope.p2pmeta");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::input_file);
    CHECK(std::string(e.what()).find("nope.p2pmeta") != std::string::npos);
  }
  try {
    create_meta(dir.path(), 0, {});
    FAIL("a folder is not a file");
  } catch (const Error& e) {
    CHECK(e.code() != ExitCode::ok);
  }
}
