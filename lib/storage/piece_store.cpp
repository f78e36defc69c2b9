// PieceStore: .partial + .state.json for downloads, a complete file for seeding.
#include "storage/piece_store.hpp"

#include <fmt/core.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>
#include <unistd.h>

#include "base/error.hpp"
#include "base/limits.hpp"
#include "base/piece_hasher.hpp"
#include "storage/state_saver.hpp"

namespace p2p {

namespace fs = std::filesystem;
using nlohmann::json;

PieceStore::PieceStore(const Meta& meta, WorkdirLayout layout, File file, bool is_source)
    : meta_(&meta), layout_(std::move(layout)), file_(std::move(file)), is_source_(is_source),
      verified_(meta.piece_count()) {}

PieceStore::PieceStore(PieceStore&&) noexcept = default;
PieceStore::~PieceStore() = default;

// Resume: the pieces that passed their hash check become verified; the report says
// which the state file vouched for and which were found on disk without it.
void PieceStore::adopt_verified(const Bitfield& good, const Bitfield& claimed, ResumeReport& report) {
  for (std::uint32_t i = 0; i < meta_->piece_count(); ++i) {
    if (!good.test(i)) continue;
    verified_.set(i);
    if (claimed.test(i)) ++report.from_state;
    else ++report.recovered;
  }
  if (report.state_problem.empty() && claimed.count() != report.from_state)
    report.state_problem = fmt::format("{} claimed {} pieces that failed their hash check", state_path().string(),
                                       claimed.count() - report.from_state);
}

fs::path PieceStore::partial_path() const { return layout_.partial_path(*meta_); }
fs::path PieceStore::state_path() const { return layout_.state_path(*meta_); }
fs::path PieceStore::final_path() const {
  if (is_source_) return tree_ ? tree_->root() : file_.path();
  return layout_.final_path(*meta_);
}

std::uint64_t PieceStore::verified_bytes() const {
  if (tree_) return tree_verified_bytes_;
  if (verified_.all()) return meta_->size;
  std::uint64_t n = std::uint64_t{verified_.count()} * meta_->piece_size;
  std::uint32_t last = meta_->piece_count() - 1;
  if (verified_.test(last)) n -= meta_->piece_size - meta_->piece_length(last);
  return n;
}

Bitfield verify_pieces(const Meta& meta, const File& file, const Bitfield& candidates) {
  auto hashes = hash_pieces(file, meta.size, meta.piece_size, [&](std::uint32_t i) { return candidates.test(i); });
  Bitfield good(meta.piece_count());
  for (std::uint32_t i = 0; i < meta.piece_count(); ++i)
    if (candidates.test(i) && hashes[i] == meta.pieces[i]) good.set(i);
  return good;
}

std::string parse_state(const Meta& meta, std::string_view text, const std::string& origin, Bitfield& claimed) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fmt::format("{} is not valid JSON", origin);
  auto str = [&](const char* k) -> std::string {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto num = [&](const char* k) -> std::uint64_t {
    auto it = j.find(k);
    return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : ~0ull;
  };
  if (num("version") != 1) return fmt::format("{} has an unknown version", origin);
  if (str("info_hash") != meta.info_hash_hex())
    return fmt::format("{} belongs to another file (info hash {})", origin, str("info_hash").substr(0, 64));
  if (num("pieces") != meta.piece_count() || num("piece_size") != meta.piece_size || num("size") != meta.size)
    return fmt::format("{} does not match the meta's sizes", origin);
  std::string hex = str("verified");
  if (hex.size() != Bitfield::byte_length(meta.piece_count()) * 2)
    return fmt::format("{} has a verified-pieces field of the wrong length", origin);
  std::vector<std::uint8_t> bytes(hex.size() / 2);
  if (!from_hex(hex, bytes)) return fmt::format("{} has a malformed verified-pieces field", origin);
  if (!Bitfield::from_bytes(bytes, meta.piece_count(), claimed))
    return fmt::format("{} marks pieces past the end of the file", origin);
  return {};
}

namespace {

// Reads the state file; returns the pieces it claims, or an explanation why it is unusable.
std::string load_state(const Meta& meta, const fs::path& path, Bitfield& claimed) {
  std::string text;
  try {
    text = read_small_file(path, limits::kMaxStateFileBytes, /*follow_links=*/false);
  } catch (const Error& e) {
    return e.what();
  }
  return parse_state(meta, text, path.string(), claimed);
}

}  // namespace

Bitfield verify_tree_pieces(const Meta& meta, TreeFiles& tree, const Bitfield& candidates, bool read_errors_mismatch) {
  // Nothing to hash (a fresh download): no digest list and no hand-off to the hashing pool.
  if (candidates.none()) return Bitfield(meta.piece_count());
  std::vector<HashedFile> layout;
  layout.reserve(meta.files.size());
  for (const auto& f : meta.files) layout.push_back({f.size, f.first_piece});
  auto hashes = hash_file_pieces(
      layout, meta.piece_size, meta.piece_count(),
      [&](std::size_t i) {
        auto f = tree.open_existing(static_cast<std::uint32_t>(i));
        if (!f) return File();
        int fd = ::dup(f->fd());  // the worker's own descriptor: the LRU may close the shared one
        if (fd < 0) throw Error(ExitCode::disk, fmt::format("cannot duplicate the descriptor of {}", f->path().string()));
        return File::adopt(fd, f->path());
      },
      [&](std::uint32_t i) { return candidates.test(i); }, read_errors_mismatch);
  Bitfield good(meta.piece_count());
  for (std::uint32_t i = 0; i < meta.piece_count(); ++i)
    if (candidates.test(i) && hashes[i] == meta.pieces[i]) good.set(i);
  return good;
}

void PieceStore::count_files() {
  file_pieces_.assign(meta_->files.size(), 0);
  tree_verified_bytes_ = 0;
  for (std::uint32_t i = 0; i < meta_->piece_count(); ++i) {
    if (!verified_.test(i)) continue;
    ++file_pieces_[meta_->file_of_piece(i)];
    tree_verified_bytes_ += meta_->piece_length(i);
  }
  files_done_ = 0;
  for (std::uint32_t f = 0; f < meta_->files.size(); ++f)
    files_done_ += file_pieces_[f] == meta_->files[f].piece_count && !(tree_ && tree_->in_the_way(f));
}

PieceStore PieceStore::open_partial_tree(const Meta& meta, const WorkdirLayout& layout, ResumeReport& report) {
  // The tree is downloaded in place: WORKDIR/<name> holds only files that are whole
  // and verified (moved there from .p2p/<ih>.files/ as each completes); the state
  // file in .p2p/ says the folder is unfinished.
  fs::path root = layout.final_path(meta);
  layout.adopt_legacy_partial(meta);
  std::error_code ec;
  bool state_exists = fs::symlink_status(layout.state_path(meta), ec).type() != fs::file_type::not_found;
  if (!state_exists && fs::symlink_status(root, ec).type() != fs::file_type::not_found)
    throw Error(ExitCode::file_exists,
                fmt::format("{} exists but is not a download of ours in progress (no {}): it is not touched; move it "
                            "away or download into another --workdir",
                            root.string(), layout.state_path(meta).string()));
  PieceStore store(meta, layout, File(), false);
  // The state file first: from then on <name> is known to be a download in progress.
  if (!state_exists) store.save_state();
  store.tree_ = TreeFiles::open_download(meta, root, layout.tree_data_dir(meta));
  TreeFiles& tree = *store.tree_;

  Bitfield claimed(meta.piece_count());
  if (!state_exists && tree.nothing_there()) {  // a fresh download: no file to look at, one by one
    store.adopt_verified(Bitfield(meta.piece_count()), claimed, report);
    store.count_files();
    return store;
  }
  if (state_exists) report.state_problem = load_state(meta, store.state_path(), claimed);
  if (!report.state_problem.empty()) claimed = Bitfield(meta.piece_count());
  // First the files at their final paths: each is hashed whole. One that does not
  // match (the user's, or changed since) is in the way: never ours again, never
  // moved or replaced; its pieces are looked for in its data file instead.
  Bitfield in_tree(meta.piece_count());
  for (std::uint32_t i = 0; i < meta.files.size(); ++i) {
    const MetaFile& mf = meta.files[i];
    if (!tree.in_tree(i)) continue;
    if (mf.piece_count == 0) {
      auto f = tree.open_existing(i);
      if (f && f->size() != 0) tree.set_in_the_way(i);
      continue;
    }
    for (std::uint32_t p = mf.first_piece; p < mf.first_piece + mf.piece_count; ++p) in_tree.set(p);
  }
  Bitfield good = verify_tree_pieces(meta, tree, in_tree, /*read_errors_mismatch=*/true);
  for (std::uint32_t i = 0; i < meta.files.size(); ++i) {
    const MetaFile& mf = meta.files[i];
    if (mf.piece_count == 0 || !tree.in_tree(i)) continue;
    bool whole = true;
    for (std::uint32_t p = mf.first_piece; p < mf.first_piece + mf.piece_count; ++p) whole = whole && good.test(p);
    if (whole) continue;
    for (std::uint32_t p = mf.first_piece; p < mf.first_piece + mf.piece_count; ++p) good.reset(p);
    tree.set_in_the_way(i);
  }
  // Then the data files, as for a single file: every claimed piece is hashed, and so
  // is every piece region that holds data (written after the last save).
  Bitfield candidates(meta.piece_count());
  for (std::uint32_t i = 0; i < meta.files.size(); ++i) {
    const MetaFile& mf = meta.files[i];
    if (mf.piece_count == 0 || tree.in_tree(i)) continue;
    auto f = tree.open_existing(i);
    if (!f) continue;
    std::uint64_t on_disk = f->size();
    for (std::uint32_t p = mf.first_piece; p < mf.first_piece + mf.piece_count; ++p) {
      std::uint64_t off = meta.piece_offset(p), len = meta.piece_length(p);
      if (off + len <= on_disk && (claimed.test(p) || f->has_data(off, len))) candidates.set(p);
    }
  }
  Bitfield in_data = verify_tree_pieces(meta, tree, candidates, /*read_errors_mismatch=*/true);
  for (std::uint32_t p = 0; p < meta.piece_count(); ++p)
    if (in_data.test(p)) good.set(p);
  store.adopt_verified(good, claimed, report);
  for (std::uint32_t i = 0; i < meta.files.size(); ++i) {
    const MetaFile& mf = meta.files[i];
    if (tree.in_the_way(i) || tree.in_tree(i)) continue;
    if (mf.piece_count == 0) continue;  // empty files and folders are made by finish(): nothing before a piece
    bool all = true;
    for (std::uint32_t p = mf.first_piece; p < mf.first_piece + mf.piece_count; ++p) all = all && store.verified_.test(p);
    if (all) tree.move_into_tree(i);  // verified before a crash, not moved yet
  }
  store.count_files();
  return store;
}

std::vector<std::uint32_t> PieceStore::files_in_the_way() const {
  std::vector<std::uint32_t> out;
  if (!tree_ || is_source_) return out;
  for (std::uint32_t i = 0; i < meta_->files.size(); ++i)
    if (tree_->in_the_way(i)) out.push_back(i);
  return out;
}

std::string PieceStore::describe_file(std::uint32_t file) const {
  return tree_ ? tree_->describe(file) : final_path().string();
}

PieceStore PieceStore::open_tree_source(const Meta& meta, const fs::path& source, bool verify) {
  PieceStore store(meta, WorkdirLayout{}, File(), true);
  store.tree_ = TreeFiles::open_source(meta, source);
  for (std::uint32_t i = 0; i < meta.files.size(); ++i) {
    auto f = store.tree_->open(i);
    if (f->size() != meta.files[i].size)
      throw Error(ExitCode::source_mismatch, fmt::format("{} is {} bytes but the meta describes {} bytes",
                                                         f->path().string(), f->size(), meta.files[i].size));
  }
  Bitfield all(meta.piece_count(), true);
  if (verify) {
    Bitfield good = verify_tree_pieces(meta, *store.tree_, all, false);
    if (!good.all()) {
      std::uint32_t bad = 0;
      while (good.test(bad)) ++bad;
      std::uint32_t f = meta.file_of_piece(bad);
      throw Error(ExitCode::source_mismatch,
                  fmt::format("{} does not match the meta: piece {} (bytes {}-{} of {}) has the wrong hash ({} of {} "
                              "pieces bad)",
                              source.string(), bad, meta.piece_offset(bad), meta.piece_offset(bad) + meta.piece_length(bad) - 1,
                              store.tree_->describe(f), meta.piece_count() - good.count(), meta.piece_count()));
    }
  }
  store.verified_ = std::move(all);
  store.count_files();
  return store;
}

PieceStore PieceStore::open_partial(const Meta& meta, const WorkdirLayout& layout, ResumeReport& report) {
  if (meta.is_tree()) return open_partial_tree(meta, layout, report);
  layout.adopt_legacy_partial(meta);
  PieceStore store(meta, layout, File(), false);
  store.file_ = File(store.partial_path(), File::Mode::read_write_create);
  std::uint64_t on_disk = store.file_.size();
  if (on_disk > meta.size) store.file_.truncate(meta.size);

  Bitfield claimed(meta.piece_count());
  bool state_exists = fs::exists(store.state_path());
  if (state_exists) report.state_problem = load_state(meta, store.state_path(), claimed);
  if (!report.state_problem.empty()) claimed = Bitfield(meta.piece_count());

  // Never trust a state file blindly, and never throw away a verified piece
  // that a crash kept out of it: hash every piece region that holds data.
  Bitfield candidates(meta.piece_count());
  for (std::uint32_t i = 0; i < meta.piece_count(); ++i) {
    std::uint64_t off = meta.piece_offset(i);
    if (off + meta.piece_length(i) <= on_disk && (claimed.test(i) || store.file_.has_data(off, meta.piece_length(i))))
      candidates.set(i);
  }
  Bitfield good = verify_pieces(meta, store.file_, candidates);
  store.adopt_verified(good, claimed, report);
  // Writing into a sparse file's holes ran ~14x slower here than into reserved blocks.
  store.file_.preallocate(meta.size);
  store.writer_ = std::make_unique<PieceWriter>(store.file_.fd(), store.partial_path());
  // A state file from the start names the .partial's file (name, size), so a
  // later run with another meta of the same file can take it over.
  if (!state_exists) store.save_state();
  return store;
}

PieceStore PieceStore::open_complete(const Meta& meta, const fs::path& source) {
  if (meta.is_tree()) return open_tree_source(meta, source, true);
  File file(source, File::Mode::read);
  std::uint64_t size = file.size();
  if (size != meta.size)
    throw Error(ExitCode::source_mismatch,
                fmt::format("{} is {} bytes but the meta describes {} bytes", source.string(), size, meta.size));
  PieceStore store(meta, WorkdirLayout{}, std::move(file), true);
  Bitfield all(meta.piece_count(), true);
  Bitfield good = verify_pieces(meta, store.file_, all);
  if (!good.all()) {
    std::uint32_t bad = 0;
    while (good.test(bad)) ++bad;
    throw Error(ExitCode::source_mismatch,
                fmt::format("{} does not match the meta: piece {} (bytes {}-{}) has the wrong hash ({} of {} pieces bad)",
                            source.string(), bad, meta.piece_offset(bad), meta.piece_offset(bad) + meta.piece_length(bad) - 1,
                            meta.piece_count() - good.count(), meta.piece_count()));
  }
  store.verified_ = std::move(good);
  return store;
}

PieceStore PieceStore::open_trusted(const Meta& meta, const fs::path& source) {
  if (meta.is_tree()) return open_tree_source(meta, source, false);
  File file(source, File::Mode::read);
  if (file.size() != meta.size)
    throw Error(ExitCode::source_mismatch,
                fmt::format("{} is {} bytes but the meta describes {} bytes", source.string(), file.size(), meta.size));
  PieceStore store(meta, WorkdirLayout{}, std::move(file), true);
  store.verified_ = Bitfield(meta.piece_count(), true);
  return store;
}

void PieceStore::write_piece(std::uint32_t piece, std::span<const std::uint8_t> data) const {
  if (tree_) tree_->write_piece(piece, data);
  else if (writer_) writer_->write(meta_->piece_offset(piece), data);
  else file_.write_at(meta_->piece_offset(piece), data);
}

std::optional<std::uint32_t> PieceStore::mark_verified(std::uint32_t piece) {
  if (!tree_) {
    verified_.set(piece);
    return std::nullopt;
  }
  if (verified_.test(piece)) return std::nullopt;
  verified_.set(piece);
  tree_verified_bytes_ += meta_->piece_length(piece);
  std::uint32_t f = meta_->file_of_piece(piece);
  if (++file_pieces_[f] < meta_->files[f].piece_count) return std::nullopt;
  ++files_done_;
  if (!is_source_) tree_->move_into_tree(f);
  return f;
}

void PieceStore::read_block(std::uint32_t piece, std::uint32_t begin, std::span<std::uint8_t> out) const {
  if (tree_) return tree_->read(piece, begin, out);
  file_.read_at(meta_->piece_offset(piece) + begin, out);
}

PieceStore::BlockFile PieceStore::block_file(std::uint32_t piece, std::uint32_t begin) const {
  if (!tree_) return {file_.fd(), meta_->piece_offset(piece) + begin, nullptr};
  auto f = tree_->open(meta_->file_of_piece(piece));
  return {f->fd(), meta_->piece_offset(piece) + begin, f};
}

std::string PieceStore::state_json() const {
  json j{{"version", 1},
         {"info_hash", meta_->info_hash_hex()},
         {"name", meta_->name},
         {"size", meta_->size},
         {"piece_size", meta_->piece_size},
         {"pieces", meta_->piece_count()},
         {"verified_count", verified_.count()},
         {"verified", to_hex(verified_.bytes())}};
  return j.dump() + "\n";
}

void PieceStore::save_state() const {
  if (is_source_) return;
  // No fdatasync of the data first: after kill -9 the page cache still holds every
  // written piece, and after a power cut a claimed piece whose bytes were lost fails
  // the hash check that open_partial() runs on every claimed piece, and is fetched
  // again. Syncing 1 GiB of data every 2 s cost ~0.3 s per GiB for no safety gained.
  // A tree's files move to their final paths as they complete, so their data is
  // flushed before the state that vouches for them (TreeFiles::sync: a few files one
  // by one, many with one syncfs).
  if (!tree_) StateSaver::shared().wait(state_path());  // a background save first, or its error
  std::string json = state_json();
  if (json == last_saved_) return;  // e.g. a finished --only selection, saved again as the run ends
  if (tree_) tree_->sync();
  write_file_atomically(state_path(), json);
  last_saved_ = std::move(json);
}

void PieceStore::save_state_in_background() const {
  if (is_source_) return;
  // A tree's files are synced first, and they are the io thread's: saved here.
  if (tree_) return save_state();
  std::string json = state_json();
  if (json == last_saved_) return;
  StateSaver::shared().save(state_path(), json);
  last_saved_ = std::move(json);
}

fs::path PieceStore::finish() {
  if (tree_) {
    // What holds no data is made last, once every piece is verified: a meta's empty
    // files and folders (bounded: kMaxTreeEntries, kMaxTreeFolders) cost nothing on
    // disk before then, whatever it lists.
    for (std::uint32_t i = 0; i < meta_->files.size(); ++i)
      if (meta_->files[i].piece_count == 0 && !tree_->in_tree(i) && !tree_->in_the_way(i)) tree_->create_empty_file(i);
    for (const auto& d : meta_->empty_dirs) tree_->create_folder(d);
    // Every file is at its final path now: the tree is finished once the state
    // file that marks it unfinished is gone (after the data is on disk).
    tree_->check_complete();
    tree_->sync();
    // (A removal lost to a crash only means the next run re-checks the finished tree.)
    std::error_code ec;
    fs::remove(state_path(), ec);
    tree_->remove_data_dir();
    return final_path();
  }
  file_.sync_data();
  StateSaver::shared().wait(state_path());  // no state file written after it is removed below
  if (!rename_no_replace(partial_path(), final_path()))
    throw Error(ExitCode::file_exists,
                fmt::format("{} appeared while downloading and was not overwritten; the verified download is kept "
                            "as {}: move {} away and rerun to finish",
                            final_path().string(), partial_path().string(), final_path().string()));
  std::error_code ec;
  fs::remove(state_path(), ec);
  return final_path();
}

}  // namespace p2p
