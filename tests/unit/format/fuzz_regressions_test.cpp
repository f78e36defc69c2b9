// Inputs the fuzzers (tests/fuzz, scripts/fuzz.sh) found to crash or break an
// invariant, fed to the same function: each must now be rejected cleanly.
#include <catch2/catch.hpp>

#include <string>

#include "base/error.hpp"
#include "format/meta.hpp"

using namespace p2p;

TEST_CASE("fuzz_meta_parser: a size near 2^64 does not wrap the piece count to zero", "[fuzz][meta]") {
  // size 2^64-1 with 16 MiB pieces needs 2^40 pieces; (size + piece_size - 1) / piece_size
  // wrapped to 0, so this meta with no pieces and a correct info hash was accepted.
  const std::string crash = R"({
 "version": 1,
 "name": "h",
 "size": 18446744073709551615,
 "piece_size": 16777216,
 "pieces": [],
 "file_sha256": "aaa9402664f1a41f40ebbc52c9993eb66aeb366602958fdfaa283b71e64db123",
 "info_hash": "affa2fb299760ef7dc8afaec62f19ee3115bb8e0be41e72b7a1731ffc6007b37",
 "trackers": [],
 "created": 1700000000
}
)";
  CHECK(piece_count_for(UINT64_MAX, 16777216) == (std::uint64_t{1} << 40));
  CHECK(piece_count_for(UINT64_MAX - 16777214, 16777216) == (std::uint64_t{1} << 40));  // 2^64 - 2^24 + 1
  CHECK(piece_count_for(UINT64_MAX - 16777215, 16777216) == (std::uint64_t{1} << 40) - 1);  // exactly (2^40 - 1) pieces
  CHECK(piece_count_for(UINT64_MAX, 16384) == (std::uint64_t{1} << 50));
  try {
    parse_meta(crash, "crash");
    FAIL("accepted a meta whose pieces cannot cover its size");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::bad_meta);
    CHECK_THAT(e.what(), Catch::Contains("pieces is more than the"));
  }
}
