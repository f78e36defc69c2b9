// The meta JSON writer (format/meta_json_writer.cpp) against the implementation it
// replaced, kept here as the reference: a JSON tree dumped by nlohmann::json. The
// canonical info is what the info hash is taken of, so it must be byte-identical for
// every meta, or existing metas and swarms would stop working.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <random>

#include "format/meta.hpp"

using namespace p2p;
using nlohmann::json;

namespace {

// The reference: lib/format/meta.cpp before the streaming reader (info_json, meta_to_json).
json reference_info(const Meta& m) {
  json pieces = json::array();
  for (const auto& d : m.pieces) pieces.push_back(to_hex(d));
  json info{{"version", m.version}, {"name", m.name}, {"size", m.size}, {"piece_size", m.piece_size},
            {"pieces", std::move(pieces)}};
  if (m.is_tree()) {
    json files = json::array();
    for (const auto& f : m.files) {
      json e{{"path", f.path}, {"size", f.size}};
      if (f.executable) e["exec"] = true;
      files.push_back(std::move(e));
    }
    info["files"] = std::move(files);
    if (!m.empty_dirs.empty()) info["dirs"] = m.empty_dirs;
  }
  if (m.version >= 2) info["root"] = to_hex(m.root);
  if (m.has_file_hash) info["file_sha256"] = to_hex(m.file_hash);
  if (m.is_private) info["private"] = true;
  return info;
}

json reference_file(const Meta& m) {
  json j = reference_info(m);
  j["info_hash"] = m.info_hash_hex();
  j["trackers"] = m.trackers;
  j["created"] = m.created;
  if (m.is_private) j["swarm_key"] = to_hex(m.swarm_key);
  return j;
}

Digest writer_digest(std::uint64_t seed) {
  Digest d{};
  std::mt19937_64 rng(seed);
  for (auto& b : d) b = static_cast<std::uint8_t>(rng());
  return d;
}

// Metas of every shape, names and paths with what JSON escapes or may carry raw.
std::vector<Meta> varied_metas() {
  std::vector<Meta> out;
  const std::vector<std::string> names = {
      "file.bin", "été.txt", "データ", "emoji 😀 name", "quote\"inside", "tab\there", "nl\nhere", "bell\x07", "del\x7f",
      "back\\slash", "slash/in", "ctl\x01\x1f", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", std::string("nul\0mid", 7)};
  std::uint64_t seed = 1;
  for (int version = 1; version <= 3; ++version) {
    for (const auto& name : names) {
      for (int variant = 0; variant < 3; ++variant) {
        Meta m;
        m.version = version;
        m.name = name;
        m.piece_size = 16384u << variant;
        std::size_t pieces = variant == 0 ? 0 : variant == 1 ? 1 : 5;
        for (std::size_t i = 0; i < pieces; ++i) m.pieces.push_back(writer_digest(seed++));
        m.root = version >= 2 ? merkle_root(m.pieces) : Digest{};
        m.has_file_hash = version == 1 || (version == 2 && variant == 2);
        if (m.has_file_hash) m.file_hash = writer_digest(seed++);
        m.is_private = variant == 1;
        if (m.is_private) m.swarm_key = writer_digest(seed++);
        m.trackers = variant == 2 ? std::vector<std::string>{"127.0.0.1:7000", "tracker.example:6969"}
                                  : std::vector<std::string>{};
        m.created = variant == 0 ? 0 : variant == 1 ? 1700000000 : -5;
        m.size = pieces * m.piece_size;
        if (version == 3) {
          m.size = 0;
          std::uint32_t first = 0;
          std::vector<std::string> paths = {name + "/a", "dir/" + name, "dir/sub/x y", "z"};
          std::sort(paths.begin(), paths.end());
          for (std::size_t i = 0; i < paths.size(); ++i) {
            MetaFile f;
            f.path = paths[i];
            f.size = i < pieces ? m.piece_size : 0;
            f.executable = i % 2 == 1;
            f.first_piece = first;
            f.piece_count = i < pieces ? 1 : 0;
            first += f.piece_count;
            m.size += f.size;
            m.files.push_back(f);
          }
          if (variant != 0) m.empty_dirs = {"empty", "empty " + name + "/deeper"};
        }
        m.info_hash = writer_digest(seed++);
        out.push_back(std::move(m));
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("canonical info and info hash are byte-identical to the JSON tree's dump", "[meta][writer]") {
  auto metas = varied_metas();
  REQUIRE(metas.size() == 3 * 14 * 3);
  for (const Meta& m : metas) {
    INFO("version " << m.version << ", name " << json(m.name).dump(-1, ' ', false, json::error_handler_t::replace));
    std::string expected;
    try {
      expected = reference_info(m).dump();
    } catch (const json::exception&) {
      continue;  // invalid UTF-8: the tree refused to serialise it (names are validated first)
    }
    CHECK(canonical_info(m) == expected);
    CHECK(info_hash_of(m) == sha256(expected));
  }
}

TEST_CASE("the meta file is byte-identical to the JSON tree's dump (indent 1, and compact)", "[meta][writer]") {
  for (const Meta& m : varied_metas()) {
    INFO("version " << m.version << ", " << m.files.size() << " files");
    CHECK(meta_to_json(m) == reference_file(m).dump(1) + "\n");
    CHECK(meta_to_compact_json(m) == reference_file(m).dump());
  }
}

TEST_CASE("the info hash of a large tree is hashed in slices like the whole", "[meta][writer]") {
  Meta m;
  m.version = 3;
  m.name = "big";
  m.piece_size = 16384;
  for (std::uint32_t i = 0; i < 20000; ++i) {
    MetaFile f;
    f.path = "folder " + std::to_string(i / 100) + "/file \"" + std::to_string(i) + "\".bin";
    f.size = 1;
    f.first_piece = i;
    f.piece_count = 1;
    m.files.push_back(f);
    m.pieces.push_back(writer_digest(i));
  }
  std::sort(m.files.begin(), m.files.end(), [](const MetaFile& a, const MetaFile& b) { return a.path < b.path; });
  m.size = m.files.size();
  m.root = merkle_root(m.pieces);
  std::string text = canonical_info(m);
  CHECK(text.size() > 3 * 64 * 1024);  // several of the writer's slices
  CHECK(text == reference_info(m).dump());
  CHECK(info_hash_of(m) == sha256(text));
}
