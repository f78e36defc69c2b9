// p2p-create FILE|DIR: writes FILE.p2pmeta (sizes, piece hashes and their Merkle root,
// info hash; the whole-file SHA-256 too with --sha256), or for a folder a tree meta
// (format 3: every file and empty folder; links and special files skipped with a warning).
#include "cli_parse.hpp"
#include <fmt/core.h>

#include "app/app_main.hpp"
#include "base/error.hpp"
#include "base/file_io.hpp"
#include "format/meta.hpp"
#include "storage/meta_creation.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Create a .p2pmeta file describing FILE: piece hashes, their Merkle root, info hash."};
  std::string file, out;
  std::uint64_t piece_size = 0;
  std::vector<std::string> trackers;
  bool quiet = false, whole_file_hash = false, private_swarm = false;
  app.add_option("FILE", file, "file or folder to describe")->required();
  app.add_option("-o,--output", out, "where to write the meta (default: FILE.p2pmeta)");
  app.add_option("--piece-size", piece_size, "bytes per piece: a power of two, 16 KiB-16 MiB (default: automatic)");
  app.add_option("--tracker", trackers, "HOST:PORT of a tracker to record in the meta (repeatable)");
  app.add_flag("--sha256", whole_file_hash,
               "also record the whole file's SHA-256 (as sha256sum prints it), checked at the end of every "
               "download: one extra sequential pass, ~1 s per GiB here, when creating and when downloading");
  app.add_flag("--private", private_swarm,
               "a private swarm: a random 256-bit swarm key is kept in the meta (written with mode 0600); peers "
               "talk TLS 1.3 authenticated by it, never plaintext, and the meta is never published to a tracker");
  app.add_flag("-q,--quiet", quiet, "print nothing on success");
  p2p_cli::set_up(app, "p2p-create");
  P2P_PARSE(app, argc, argv);

  return p2p::guarded_main("p2p-create", [&] {
    std::error_code ec;
    bool is_dir = std::filesystem::is_directory(file, ec);
    while (is_dir && file.size() > 1 && file.back() == '/') file.pop_back();
    if (is_dir && whole_file_hash)
      throw p2p::Error(p2p::ExitCode::usage, fmt::format("--sha256 is for a single file; {} is a folder, whose identity is "
                                                         "its piece hashes (every file is checked piece by piece)",
                                                         file));
    p2p::Meta meta = is_dir ? p2p::create_tree_meta(file, piece_size, trackers, private_swarm,
                                                    [&](const std::string& w) { fmt::print(stderr, "p2p-create: {}\n", w); })
                            : p2p::create_meta(file, piece_size, trackers, whole_file_hash, private_swarm);
    std::string path = out.empty() ? file + ".p2pmeta" : out;
    p2p::write_file_atomically(path, p2p::meta_to_json(meta), p2p::meta_file_mode(meta));
    if (!quiet) {
      if (meta.is_tree())
        fmt::print("{}: {} files, {} empty folders, {} bytes, {} pieces of {} bytes, info hash {}\n", path,
                   meta.files.size(), meta.empty_dirs.size(), meta.size, meta.piece_count(), meta.piece_size,
                   meta.info_hash_hex());
      else
        fmt::print("{}: {} bytes, {} pieces of {} bytes, info hash {}\n", path, meta.size, meta.piece_count(),
                   meta.piece_size, meta.info_hash_hex());
      if (meta.is_private)
        fmt::print("private swarm: {} holds the swarm key (mode 0600); give it only to the machines that may "
                   "take part, over a channel you trust\n",
                   path);
    }
    return 0;
  });
}
