// A meta as a publisher would send it to the tracker: a file of random bytes created in dir.
#pragma once
#include <string>

#include "format/meta.hpp"
#include "test_support.hpp"
#include "storage/meta_creation.hpp"

namespace p2p::test {

inline std::string meta_json_for(TempDir& dir, const std::string& name, std::size_t size, std::uint64_t seed) {
  auto path = dir / name;
  write_file(path, random_bytes(size, seed));
  return meta_to_json(create_meta(path, 0, {}));
}

}  // namespace p2p::test
