// Fuzzes p2p::parse_state (the .state.json of a download) against a few fixed
// metas built here (0, 1, 3, 9 and 17 pieces, so byte-boundary spare bits are
// exercised). Checks: it never throws; an accepted state claims a bitfield of
// exactly piece_count() bits, every one of them addressable.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bitfield.hpp"
#include "format/meta.hpp"
#include "storage/piece_store.hpp"

using namespace p2p;

namespace {

Meta make_meta(std::uint64_t size) {
  Meta m;
  m.name = "fuzz-" + std::to_string(size) + ".bin";
  m.size = size;
  m.piece_size = 16384;
  for (std::uint64_t i = 0; i < piece_count_for(size, m.piece_size); ++i)
    m.pieces.push_back(sha256(std::to_string(i)));
  m.root = merkle_root(m.pieces);  // format 2, as p2p-create writes (make_corpus.py builds the same)
  m.info_hash = sha256(canonical_info(m));
  return m;
}

const std::vector<Meta>& metas() {
  static const std::vector<Meta> all = {make_meta(0), make_meta(1000), make_meta(3 * 16384),
                                        make_meta(8 * 16384 + 1), make_meta(17 * 16384 - 5)};
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const Meta& meta : metas()) {
    Bitfield claimed;
    std::string problem = parse_state(meta, text, "fuzz", claimed);
    if (!problem.empty()) continue;
    if (claimed.size() != meta.piece_count()) __builtin_trap();
    if (claimed.count() > claimed.size()) __builtin_trap();
    for (std::uint32_t i = 0; i < claimed.size(); ++i) (void)claimed.test(i);  // in bounds (ASan)
  }
  return 0;
}
