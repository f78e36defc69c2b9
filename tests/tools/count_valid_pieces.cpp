// Prints how many pieces of a (partial) file match the meta's hashes: what a
// resume must find again. Used by the crash-loop test.
#include <cstdio>

#include "base/file_io.hpp"
#include "format/meta.hpp"
#include "storage/piece_store.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: count_valid_pieces META FILE\n");
    return 2;
  }
  p2p::Meta meta = p2p::load_meta(argv[1]);
  p2p::File file(argv[2], p2p::File::Mode::read);
  p2p::Bitfield candidates(meta.piece_count());
  std::uint64_t size = file.size();
  for (std::uint32_t i = 0; i < meta.piece_count(); ++i)
    if (meta.piece_offset(i) + meta.piece_length(i) <= size) candidates.set(i);
  std::printf("%u\n", p2p::verify_pieces(meta, file, candidates).count());
  return 0;
}
