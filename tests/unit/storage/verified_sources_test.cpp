#include <catch2/catch.hpp>

#include "base/file_io.hpp"
#include "storage/verified_sources.hpp"
#include "test_support.hpp"

using namespace p2p;

TEST_CASE("verified sources vouch only for the same file, unchanged, and the same meta", "[verified_sources]") {
  test::TempDir dir;
  auto src = dir / "s.bin";
  test::write_file(src, "hello");
  auto id = *SourceIdentity::of_path(src);
  Digest h{};
  h[0] = 7;
  {
    VerifiedSources v(dir / "vs.json");
    CHECK(v.load_problem().empty());
    CHECK_FALSE(v.vouches(src, h, id));
    v.record(src, h, id);
    v.save();
  }
  VerifiedSources v(dir / "vs.json");  // survives a restart
  CHECK(v.vouches(src, h, id));
  Digest other = h;
  other[1] = 1;
  CHECK_FALSE(v.vouches(src, other, id));
  auto changed = id;
  changed.mtime_ns += 1;
  CHECK_FALSE(v.vouches(src, h, changed));
  CHECK(id.difference(changed) == "modified");
  changed = id;
  changed.size += 1;
  CHECK(id.difference(changed).find("size changed") != std::string::npos);
}

TEST_CASE("a damaged verified-sources file is ignored, never trusted", "[verified_sources]") {
  test::TempDir dir;
  test::write_file(dir / "vs.json", "{\"version\":1,\"sources\":{\"/x\":{\"info_hash\":\"zz\"}}}");
  VerifiedSources v(dir / "vs.json");
  CHECK_FALSE(v.load_problem().empty());
  CHECK_FALSE(v.vouches("/x", Digest{}, SourceIdentity{}));
}
