// publish_and_keep_tokens: the one publish path of seeder, folder share and /api/share.
// The tracker is a fake call that records what it was sent.
#include <catch2/catch.hpp>

#include <fmt/core.h>
#include <sys/stat.h>

#include <map>

#include "app/publish_and_keep_tokens.hpp"
#include "base/error.hpp"
#include "tracker_client/owner_token_file.hpp"
#include "test_support.hpp"
#include "storage/meta_creation.hpp"

using namespace p2p;
namespace fs = std::filesystem;

namespace {
struct PublishFixture {
  test::TempDir dir;
  fs::path meta_path = dir / "f.bin.p2pmeta";
  Meta meta;
  std::vector<std::pair<std::string, std::string>> sent;  // (tracker, meta json)
  PublishFixture() {
    test::write_file(dir / "f.bin", test::random_bytes(50000, 7));
    meta = create_meta(dir / "f.bin", 16384, {});
  }
  // A tracker that stores the meta and answers a token, or (already) answers none.
  PublishToTracker tracker(std::map<std::string, std::optional<std::string>> answers) {
    return [this, answers](const std::string& t, const std::string& json) -> std::optional<std::string> {
      sent.emplace_back(t, json);
      auto it = answers.find(t);
      if (it == answers.end()) throw Error(ExitCode::tracker, fmt::format("tracker {}: connection refused", t));
      return it->second;
    };
  }
};
const std::string kTokenA(64, 'a'), kTokenB(64, 'b');
}  // namespace

TEST_CASE("publish_and_keep_tokens publishes to every tracker and keeps each token beside the meta", "[publish]") {
  PublishFixture f;
  auto said = publish_and_keep_tokens(f.meta, "{meta}", f.meta_path, {"t1:1", "t2:2", "t3:3"},
                                      f.tracker({{"t1:1", kTokenA}, {"t2:2", std::nullopt}, {"t3:3", kTokenB}}));
  REQUIRE(f.sent.size() == 3);
  CHECK(f.sent[0] == std::pair<std::string, std::string>{"t1:1", "{meta}"});
  CHECK(f.sent[2].first == "t3:3");
  REQUIRE(said.size() == 3);
  CHECK(said[0].find("published f.bin to tracker t1:1") != std::string::npos);
  CHECK(said[1].find("already published on tracker t2:2") != std::string::npos);
  auto file = owner_token_file_for(f.meta_path);
  CHECK(load_owner_token(file, "t1:1") == kTokenA);
  CHECK(load_owner_token(file, "t2:2") == std::nullopt);  // its owner is whoever published it first
  CHECK(load_owner_token(file, "t3:3") == kTokenB);
  struct stat st{};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("publish_and_keep_tokens never publishes a private meta: one notice, no tracker asked", "[publish]") {
  PublishFixture f;
  f.meta.is_private = true;
  auto said = publish_and_keep_tokens(f.meta, "{meta}", f.meta_path, {"t1:1", "t2:2"}, f.tracker({{"t1:1", kTokenA}}));
  CHECK(f.sent.empty());
  REQUIRE(said.size() == 1);
  CHECK(said[0].find("private") != std::string::npos);
  CHECK(said[0].find("never published") != std::string::npos);
  CHECK_FALSE(fs::exists(owner_token_file_for(f.meta_path)));
  // Without trackers too: the rule does not depend on them.
  CHECK(publish_and_keep_tokens(f.meta, "{meta}", f.meta_path, {}, f.tracker({})).size() == 1);
}

TEST_CASE("publish_and_keep_tokens stops at a failing tracker and keeps the tokens before it", "[publish]") {
  PublishFixture f;
  try {
    publish_and_keep_tokens(f.meta, "{meta}", f.meta_path, {"t1:1", "down:9", "t3:3"},
                            f.tracker({{"t1:1", kTokenA}, {"t3:3", kTokenB}}));
    FAIL("a failing tracker was not reported");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::tracker);
    CHECK(std::string(e.what()).find("down:9") != std::string::npos);
  }
  CHECK(f.sent.size() == 2);  // t3 was not asked
  CHECK(load_owner_token(owner_token_file_for(f.meta_path), "t1:1") == kTokenA);
}

TEST_CASE("publish_and_keep_tokens with no trackers publishes nothing", "[publish]") {
  PublishFixture f;
  CHECK(publish_and_keep_tokens(f.meta, "{meta}", f.meta_path, {}, f.tracker({})).empty());
  CHECK(f.sent.empty());
  CHECK_FALSE(fs::exists(owner_token_file_for(f.meta_path)));
}
