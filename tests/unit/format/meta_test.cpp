// Meta: creation, round trip, and every rejection of a hostile or broken meta, in
// format 2 (piece hashes + Merkle root, optional whole-file hash) and format 1.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "format/meta.hpp"
#include "test_support.hpp"
#include "storage/meta_creation.hpp"

using namespace p2p;
using nlohmann::json;

namespace {
Meta make_meta(test::TempDir& dir, std::size_t size, std::uint64_t piece_size = 0, bool whole_file_hash = false) {
  auto path = dir / "file.bin";
  test::write_file(path, test::random_bytes(size, size + 7));
  return create_meta(path, piece_size, {}, whole_file_hash);
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

TEST_CASE("automatic piece size: 500-1,000 pieces within 64 KiB-4 MiB, bigger only past kMaxPieces", "[meta]") {
  CHECK(auto_piece_size(0) == 64 * 1024);
  CHECK(auto_piece_size(1) == 64 * 1024);
  CHECK(auto_piece_size(32ull << 20) == 64 * 1024);  // 512 pieces (the swarm benchmark's file)
  CHECK(auto_piece_size(100ull << 20) == 128 * 1024);  // 800 pieces
  CHECK(auto_piece_size(1ull << 30) == 2 * 1024 * 1024);  // 512 pieces
  for (std::uint64_t size : {100ull << 20, 1ull << 30, 3ull << 30}) {
    auto n = piece_count_for(size, auto_piece_size(size));
    CHECK(n >= 500);
    CHECK(n <= 1000);
  }
  // Above 4 GiB the piece stays at 4 MiB (it is held in memory while it arrives).
  CHECK(auto_piece_size(8ull << 30) == 4 * 1024 * 1024);  // 2,048 pieces
  CHECK(auto_piece_size(50ull << 30) == 4 * 1024 * 1024);  // 12,800 pieces
  CHECK(auto_piece_size(4ull << 40) == 4 * 1024 * 1024);  // exactly kMaxPieces
  CHECK(auto_piece_size((4ull << 40) + 1) == 8 * 1024 * 1024);
  CHECK(auto_piece_size(1ull << 50) == 16 * 1024 * 1024);
}

TEST_CASE("create and parse round trip", "[meta]") {
  test::TempDir dir;
  for (bool whole : {false, true}) {
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{16384}, std::size_t{16385}, std::size_t{1000000}}) {
      INFO("size " << size << (whole ? " with --sha256" : ""));
      Meta m = make_meta(dir, size, 16384, whole);
      CHECK(m.version == 2);
      CHECK(m.size == size);
      CHECK(m.piece_count() == (size + 16383) / 16384);
      CHECK(m.name == "file.bin");
      std::string content = read_small_file(dir / "file.bin", 1 << 30);
      CHECK(m.has_file_hash == whole);
      CHECK(m.file_hash == (whole ? sha256(content) : Digest{}));
      CHECK(m.root == merkle_root(m.pieces));
      if (size > 0) {
        CHECK(m.pieces[0] == sha256(std::string_view(content).substr(0, 16384)));
        CHECK(m.piece_length(m.piece_count() - 1) == (size % 16384 ? size % 16384 : 16384));
      }
      auto lengths = m.piece_lengths();
      REQUIRE(lengths.size() == m.piece_count());
      for (std::uint32_t i = 0; i < m.piece_count(); ++i) CHECK(lengths[i] == m.piece_length(i));
      std::string text = meta_to_json(m);
      CHECK((text.find("\"file_sha256\"") != std::string::npos) == whole);
      Meta back = parse_meta(text, "x");
      CHECK(back.version == 2);
      CHECK(back.info_hash == m.info_hash);
      CHECK(back.pieces == m.pieces);
      CHECK(back.root == m.root);
      CHECK(back.has_file_hash == whole);
      CHECK(back.file_hash == m.file_hash);
      CHECK(back.size == m.size);
    }
  }
}

TEST_CASE("hashing many pieces in parallel matches a sequential hash", "[meta]") {
  test::TempDir dir;
  // 16 KiB pieces: 64 per 1 MiB read; 2 MiB pieces: each hashed in 1 MiB parts; the last piece short.
  for (std::uint64_t piece_size : {std::uint64_t{16384}, std::uint64_t{2} << 20}) {
    INFO("piece size " << piece_size);
    Meta m = make_meta(dir, 9 * 1024 * 1024 + 123, piece_size, true);
    std::string content = read_small_file(dir / "file.bin", 1 << 30);
    CHECK(m.file_hash == sha256(content));
    for (std::uint32_t i = 0; i < m.piece_count(); ++i)
      REQUIRE(m.pieces[i] == sha256(std::string_view(content).substr(std::size_t{i} * piece_size, m.piece_length(i))));
  }
}

namespace {
// Written by an independent implementation (Python: hashlib + json.dumps(sort_keys=True,
// separators=(",", ":"))) for content = bytes 0..255 repeated 100 times, 16 KiB pieces.
// If these stop parsing, every existing meta and swarm of that format is orphaned.
constexpr const char* kGoldenPieces =
    R"(["a1f259d4365ed4320c377ce26f5c8c56dcdc9a89e7b641bfd8eabfbbeac86654","328483c355456142e6d9f8c42e7afc5150f4cffdcb6408bcf0350cc34c6a26aa"])";
constexpr const char* kGoldenFileHash = "22c27b021752596140145a93194d9cdf33b0b1b454f50fd1b430491eb3eb3cb9";
constexpr const char* kGoldenRoot = "07bc3b0970abbb8ea8e90f696e64ea0e4d2f6bce8bf7e14f45a71a1bccfd59df";

std::string golden(int version, bool file_hash, const char* info_hash) {
  json j{{"version", version}, {"name", "golden.bin"}, {"size", 25600}, {"piece_size", 16384},
         {"pieces", json::parse(kGoldenPieces)}, {"info_hash", info_hash}, {"created", 1700000000}};
  if (version >= 2) j["root"] = kGoldenRoot;
  if (file_hash) j["file_sha256"] = kGoldenFileHash;
  return j.dump();
}
}  // namespace

TEST_CASE("format 1 metas are still read, with their whole-file hash", "[meta]") {
  Meta m = parse_meta(golden(1, true, "f8dd21b2b1e8cb39985c9e2cb72c328336c8f6d24525653af3fcf8db557a41b9"), "v1");
  CHECK(m.version == 1);
  CHECK(m.has_file_hash);
  CHECK(to_hex(m.file_hash) == kGoldenFileHash);
  CHECK(m.root == Digest{});
  CHECK(m.piece_count() == 2);
  // Written back, it stays format 1 with the same info hash (a downloader may save it).
  Meta back = parse_meta(meta_to_json(m), "v1 again");
  CHECK(back.version == 1);
  CHECK(back.info_hash == m.info_hash);
  CHECK(meta_to_json(m).find("\"root\"") == std::string::npos);
  // Format 1 requires the whole-file hash.
  CHECK_THAT(message_of(golden(1, false, "f8dd21b2b1e8cb39985c9e2cb72c328336c8f6d24525653af3fcf8db557a41b9")),
             Catch::Contains("missing field \"file_sha256\""));
}

TEST_CASE("format 2 metas match an independent implementation", "[meta]") {
  Meta m = parse_meta(golden(2, false, "8112a9f585f326443a4360db2055ab5c5c84237d57464b38f5a1b6f47bdd24c2"), "v2");
  CHECK(m.version == 2);
  CHECK_FALSE(m.has_file_hash);
  CHECK(to_hex(m.root) == kGoldenRoot);
  Meta with_hash = parse_meta(golden(2, true, "9afaa8062a8a1d85ec34132d2041f38265ff142650759dc6076e0facb22360c6"), "v2s");
  CHECK(with_hash.has_file_hash);
  CHECK(to_hex(with_hash.file_hash) == kGoldenFileHash);
  // The info hash commits to the whole-file hash: the same meta with it stripped is refused.
  CHECK_THAT(message_of(golden(2, false, "9afaa8062a8a1d85ec34132d2041f38265ff142650759dc6076e0facb22360c6")),
             Catch::Contains("does not match its contents"));

  // And p2p-create makes exactly these from the same bytes.
  test::TempDir dir;
  std::string content;
  for (int r = 0; r < 100; ++r)
    for (int b = 0; b < 256; ++b) content.push_back(static_cast<char>(b));
  test::write_file(dir / "golden.bin", content);
  CHECK(create_meta(dir / "golden.bin", 16384, {}).info_hash == m.info_hash);
  CHECK(create_meta(dir / "golden.bin", 16384, {}, true).info_hash == with_hash.info_hash);
}

TEST_CASE("info hash covers the immutable part only", "[meta]") {
  test::TempDir dir;
  Meta m = make_meta(dir, 50000);
  Meta with_tracker = parse_meta(edited(m, [](json& j) { j["trackers"] = {"127.0.0.1:7000"}; }), "x");
  CHECK(with_tracker.info_hash == m.info_hash);
  Meta renamed = parse_meta(edited(m, [](json& j) { j["name"] = "other.bin"; }), "x");
  CHECK(renamed.info_hash != m.info_hash);
  // Adding a whole-file hash makes another swarm: the info hash commits to it.
  Meta hashed = parse_meta(edited(m, [](json& j) { j["file_sha256"] = to_hex(sha256("x")); }), "x");
  CHECK(hashed.has_file_hash);
  CHECK(hashed.info_hash != m.info_hash);
  // Same bytes and piece size, same pieces and root, whatever the name: the root names the content.
  CHECK(renamed.root == m.root);
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
  CHECK(code_of(edited(m, [](json& j) { j["version"] = 0; })) == ExitCode::bad_meta);
  CHECK(code_of(edited(m, [](json& j) { j["version"] = 3; })) == ExitCode::bad_meta);
  CHECK(code_of(edited(m, [](json& j) { j["version"] = "2"; })) == ExitCode::bad_meta);
  CHECK_THAT(message_of(edited(m, [](json& j) { j["version"] = 3; })), Catch::Contains("missing field \"files\""));
  CHECK_THAT(message_of(edited(m, [](json& j) { j["version"] = 4; })), Catch::Contains("format version 4 is not supported"));
  // Format 2: the root must be there, well formed, and the root of the listed pieces.
  CHECK_THAT(message_of(edited(m, [](json& j) { j.erase("root"); })), Catch::Contains("missing field \"root\""));
  CHECK_THAT(message_of(edited(m, [](json& j) { j["root"] = "xyz"; })), Catch::Contains("\"root\" must be 64 hex digits"));
  CHECK_THAT(message_of(edited(m, [](json& j) { j["root"] = std::string(64, '0'); })),
             Catch::Contains("is not the Merkle root of the listed pieces"));
  CHECK_THAT(message_of(edited(m, [](json& j) { std::swap(j["pieces"][0], j["pieces"][1]); })),
             Catch::Contains("is not the Merkle root"));  // order matters
  CHECK_THAT(message_of(edited(m, [&](json& j) { j["pieces"][3] = to_hex(sha256("forged")); })),
             Catch::Contains("is not the Merkle root"));
  // An optional whole-file hash, when present, must be well formed.
  CHECK_THAT(message_of(edited(m, [](json& j) { j["file_sha256"] = "abc"; })),
             Catch::Contains("\"file_sha256\" must be 64 hex digits"));
  CHECK(code_of(edited(m, [](json& j) { j["file_sha256"] = nullptr; })) == ExitCode::bad_meta);
  // Format 1 without its whole-file hash.
  CHECK(code_of(edited(m, [](json& j) { j["version"] = 1; j.erase("root"); })) == ExitCode::bad_meta);
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
  for (int version : {1, 2}) {
    json j{{"version", version}, {"name", "x"}, {"size", 1ull << 60}, {"piece_size", 16384}, {"pieces", json::array()},
           {"file_sha256", std::string(64, '0')}, {"root", std::string(64, '0')}, {"info_hash", std::string(64, '0')}};
    CHECK(message_of(j.dump()).find("allowed") != std::string::npos);
  }
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

TEST_CASE("a private meta keeps its key outside the info hash, commits to being private, is written 0600",
          "[meta][private]") {
  test::TempDir dir;
  auto path = dir / "file.bin";
  test::write_file(path, test::random_bytes(100000, 3));
  Meta pub = create_meta(path, 16384, {});
  Meta priv = create_meta(path, 16384, {}, false, true);
  CHECK(priv.is_private);
  CHECK(priv.swarm_key != SwarmKey{});
  // Same bytes, another swarm: the info hash commits to "private".
  CHECK(priv.info_hash != pub.info_hash);
  CHECK(canonical_info(priv).find("\"private\":true") != std::string::npos);
  CHECK(canonical_info(priv).find(to_hex(priv.swarm_key)) == std::string::npos);
  CHECK(canonical_info(pub).find("private") == std::string::npos);

  // Round trip keeps the key.
  Meta back = parse_meta(meta_to_json(priv), "private.p2pmeta");
  CHECK(back.is_private);
  CHECK(back.swarm_key == priv.swarm_key);
  CHECK(back.info_hash == priv.info_hash);

  // Two private metas of one file are two swarms with two keys.
  Meta priv2 = create_meta(path, 16384, {}, false, true);
  CHECK(priv2.swarm_key != priv.swarm_key);

  // Rejections: a private meta without its key; a key in a meta that is not private;
  // a stripped copy (no "private", hash left as is) no longer matches its info hash.
  CHECK(code_of(edited(priv, [](json& j) { j.erase("swarm_key"); }, false)) == ExitCode::bad_meta);
  CHECK(code_of(edited(priv, [](json& j) { j.erase("private"); }, false)) == ExitCode::bad_meta);
  CHECK(code_of(edited(priv, [](json& j) { j["swarm_key"] = "zz"; }, false)) == ExitCode::bad_meta);
  CHECK(code_of(edited(priv, [](json& j) { j["private"] = "yes"; })) == ExitCode::bad_meta);
  // Stripped of both and re-hashed: a valid public meta of another swarm, without a key.
  json stripped = json::parse(edited(priv, [](json& j) {
    j.erase("private");
    j.erase("swarm_key");
  }));
  stripped["info_hash"] = to_hex(sha256(json::parse(canonical_info(pub)).dump()));
  Meta s = parse_meta(stripped.dump(), "stripped");
  CHECK_FALSE(s.is_private);
  CHECK(s.info_hash == pub.info_hash);
  CHECK(s.info_hash != priv.info_hash);

  CHECK(meta_file_mode(priv) == 0600);
  CHECK(meta_file_mode(pub) == 0644);
  auto out = dir / "private.p2pmeta";
  write_file_atomically(out, meta_to_json(priv), meta_file_mode(priv));
  auto perms = std::filesystem::status(out).permissions();
  CHECK((perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) == std::filesystem::perms::none);
}
