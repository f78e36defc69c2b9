// parse_meta / load_meta: the meta read in one streaming pass (nlohmann's SAX
// interface), building the file list, piece hashes and empty folders as the bytes
// arrive: no JSON tree, no object per entry. Every list is bounded while it grows
// (pieces, entries, path bytes, components, folders: limits.hpp), so the cost of a
// hostile meta is bounded by those, not by its bytes; checks that need other fields
// (piece layout, sizes, Merkle root, info hash) run once at the end.
#include <algorithm>
#include <bit>
#include <fmt/core.h>
#include <limits>
#include <optional>
#include <type_traits>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/file_io.hpp"
#include "base/hash_pool.hpp"
#include "base/huge_pages.hpp"
#include "base/limits.hpp"
#include "format/bounded_json.hpp"
#include "format/json_byte_source.hpp"
#include "format/meta.hpp"
#include "format/piece_list_ahead.hpp"
#include "format/tree_listing.hpp"

namespace p2p {

namespace {

using json = nlohmann::json;

[[noreturn]] void reject(std::string_view origin, std::string_view what) {
  throw Error(ExitCode::bad_meta, fmt::format("invalid meta {}: {}", origin, what));
}

enum class Field : std::uint8_t {
  version, name, size, piece_size, pieces, files, dirs, root, file_sha256, info_hash, swarm_key, is_private,
  trackers, created, unknown
};
constexpr std::string_view kFieldNames[] = {"version", "name", "size", "piece_size", "pieces", "files", "dirs", "root",
                                            "file_sha256", "info_hash", "swarm_key", "private", "trackers", "created"};
constexpr std::size_t kKnownFields = std::size(kFieldNames);

Field field_of(std::string_view key) {
  for (std::size_t i = 0; i < kKnownFields; ++i)
    if (kFieldNames[i] == key) return static_cast<Field>(i);
  return Field::unknown;
}

enum class EntryKey : std::uint8_t { path, size, exec };

// One scalar SAX event, for the field or list it belongs to.
struct Scalar {
  enum class Type { null, boolean, negative, unsigned_, floating, string } type;
  bool b = false;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  const std::string* s = nullptr;
};

// The fewest bytes one element of a list takes in a meta's JSON: a piece hash
// ("<64 hex digits>",) and a file entry ({"path":"a","size":0},).
constexpr std::uint64_t kMinPieceJsonBytes = 67;
constexpr std::uint64_t kMinEntryJsonBytes = 22;
// From this many pieces the Merkle root and the info hash are computed in parallel.
constexpr std::size_t kParallelDigestsFromPieces = 4096;
// From this many bytes a meta file's pieces list is read on another thread meanwhile
// (format/piece_list_ahead.hpp): below, the thread costs about what it saves.
constexpr std::uint64_t kPiecesAheadFromBytes = 512 << 10;

class MetaSax {
 public:
  // `meta_bytes`: the size of the JSON. The piece and file lists are reserved for as many
  // elements as that many bytes can hold (within the limits): capacity is address space,
  // not memory, until written, so each page is touched once, where growing by doubling
  // copied every list and faulted its pages in again (a third of a big tree's read).
  MetaSax(std::string_view origin, std::uint64_t meta_bytes) : origin_(origin) {
    pieces_.reserve(static_cast<std::size_t>(std::min(limits::kMaxPieces, meta_bytes / kMinPieceJsonBytes + 1)));
    files_.reserve(static_cast<std::size_t>(std::min(limits::kMaxTreeEntries, meta_bytes / kMinEntryJsonBytes + 1)));
    // Filled front to back: in 2 MiB pages where the kernel has them (a million-file
    // meta's two lists were 22,000 of its 38,000 page faults).
    advise_huge_pages(pieces_.data(), pieces_.capacity() * sizeof(Digest));
    advise_huge_pages(files_.data(), files_.capacity() * sizeof(MetaFile));
  }

  // --- nlohmann's SAX interface (called by name: nothing virtual) ---
  bool null() { return value({Scalar::Type::null}); }
  bool boolean(bool v) { return value({Scalar::Type::boolean, v}); }
  bool number_integer(json::number_integer_t v) {
    return value(v < 0 ? Scalar{Scalar::Type::negative, false, v} : Scalar{Scalar::Type::unsigned_, false, v, std::uint64_t(v)});
  }
  bool number_unsigned(json::number_unsigned_t v) { return value({Scalar::Type::unsigned_, false, 0, v}); }
  bool number_float(json::number_float_t, const json::string_t&) { return value({Scalar::Type::floating}); }
  bool string(json::string_t& v) { return value({Scalar::Type::string, false, 0, 0, &v}); }
  bool binary(json::binary_t&) { return value({Scalar::Type::null}); }  // not produced by the JSON lexer
  bool start_object(std::size_t) { return open(true); }
  bool start_array(std::size_t) { return open(false); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(json::string_t& k);
  bool parse_error(std::size_t at, const std::string&, const nlohmann::detail::exception&) {
    error_at_ = at;
    return false;
  }

  std::size_t error_at() const { return error_at_; }
  // The parse stands just before the first "pieces" key's value, and `list` (that value,
  // read ahead) fits the bounds: then its pieces are taken, as if parsed here.
  bool adopt_pieces(PieceListAhead::List& list);
  // `parallel_digests`: a big meta's Merkle root and info hash side by side on the hashing pool.
  Meta finish(bool parallel_digests);

 private:
  [[noreturn]] void fail(std::string_view what) const { reject(origin_, what); }
  void check(BoundedJsonProblem problem) const;
  int depth() const { return count_.depth(); }  // containers open
  bool value(const Scalar& v);
  bool open(bool object);
  bool close();
  void top_field(const Scalar& v);
  void list_element(const Scalar& v);
  void entry_field(const Scalar& v);
  void finish_entry();
  void add_dir(const std::string& d);
  void add_cost(std::string_view path, const char* list, std::size_t index);
  // `what` names the value in a refusal: a string, or a function making one (only then).
  template <typename What>
  Digest digest(const Scalar& v, const What& what) const;
  template <typename What>
  std::uint64_t unsigned_value(const Scalar& v, const What& what) const;
  template <typename What>
  static std::string name_of(const What& what) {
    if constexpr (std::is_invocable_v<What>) return what();
    else return std::string(what);
  }
  std::string_view field_name() const { return kFieldNames[static_cast<std::size_t>(field_)]; }

  std::string_view origin_;
  std::size_t error_at_ = 0;
  JsonBoundsCount count_{{limits::kMaxMetaJsonValues, limits::kMaxMetaJsonDepth}};
  Field field_ = Field::unknown;  // the top-level field whose value is being read
  bool seen_[kKnownFields] = {};
  bool ended_ = false;            // the top-level object closed

  // Scalars of the top level.
  std::uint64_t version_ = 0, size_ = 0, piece_size_ = 0;
  std::string name_;
  Digest root_{}, file_sha256_{}, info_hash_{}, swarm_key_{};
  bool is_private_ = false;
  std::int64_t created_ = 0;
  std::vector<std::string> trackers_;
  std::vector<Digest> pieces_;

  // The tree, checked entry by entry as it arrives.
  std::vector<MetaFile> files_;
  std::vector<std::string> dirs_;
  TreeCost cost_;
  FolderWalk file_folders_, dir_folders_;  // fail fast; the exact count is taken at the end
  bool in_entry_ = false;
  EntryKey entry_key_{};
  bool entry_has_[3] = {};
  std::string entry_path_;
  std::uint64_t entry_size_ = 0;
  bool entry_exec_ = false;
};

void MetaSax::check(BoundedJsonProblem problem) const {
  if (problem == BoundedJsonProblem::too_many_values)
    fail(fmt::format("more than {} JSON values: larger than any meta can be", limits::kMaxMetaJsonValues));
  if (problem == BoundedJsonProblem::too_deep) fail("nested deeper than a meta can be");
}

bool MetaSax::open(bool object) {
  const int outer = depth();  // containers open around this one
  check(count_.open());
  if (outer == 0) {
    if (!object || ended_) fail("top level must be a JSON object");
  } else if (outer == 1) {
    bool list = field_ == Field::pieces || field_ == Field::files || field_ == Field::dirs || field_ == Field::trackers;
    if (field_ != Field::unknown && (object || !list)) top_field({Scalar::Type::null});  // the type error
  } else if (outer == 2 && field_ != Field::unknown) {
    if (field_ == Field::files && object) {
      in_entry_ = true;
      entry_has_[0] = entry_has_[1] = entry_has_[2] = false;
      entry_exec_ = false;
    } else {
      list_element({Scalar::Type::null});  // the type error
    }
  }
  return true;
}

bool MetaSax::close() {
  count_.close();
  if (depth() == 0) ended_ = true;
  if (depth() == 2 && in_entry_) {
    in_entry_ = false;
    finish_entry();
  }
  if (depth() == 1) field_ = Field::unknown;  // a list ended
  return true;
}

bool MetaSax::key(json::string_t& k) {
  if (depth() == 1) {
    field_ = field_of(k);
    if (field_ != Field::unknown) {
      auto i = static_cast<std::size_t>(field_);
      if (seen_[i]) fail(fmt::format("field \"{}\" appears twice", k));
      seen_[i] = true;
    }
  } else if (in_entry_ && depth() == 3) {
    if (k == "path") entry_key_ = EntryKey::path;
    else if (k == "size") entry_key_ = EntryKey::size;
    else if (k == "exec") entry_key_ = EntryKey::exec;
    else fail(fmt::format("files[{}] has an unknown field {:?}", files_.size(), k));
    auto i = static_cast<std::size_t>(entry_key_);
    if (entry_has_[i]) fail(fmt::format("files[{}] has \"{}\" twice", files_.size(), k));
    entry_has_[i] = true;
  }
  return true;
}

bool MetaSax::value(const Scalar& v) {
  check(count_.value());
  if (depth() == 0) fail("top level must be a JSON object");
  if (depth() == 1) top_field(v);
  else if (depth() == 2 && field_ != Field::unknown) list_element(v);
  else if (depth() == 3 && in_entry_) entry_field(v);
  return true;
}

template <typename What>
Digest MetaSax::digest(const Scalar& v, const What& what) const {
  Digest d{};
  if (v.type != Scalar::Type::string || !digest_from_hex(*v.s, d))
    fail(fmt::format("{} must be 64 hex digits", name_of(what)));
  return d;
}

template <typename What>
std::uint64_t MetaSax::unsigned_value(const Scalar& v, const What& what) const {
  if (v.type != Scalar::Type::unsigned_) fail(fmt::format("{} must be a non-negative integer", name_of(what)));
  return v.u;
}

void MetaSax::top_field(const Scalar& v) {
  using T = Scalar::Type;
  if (field_ == Field::unknown) return;  // a field no meta has: skipped
  auto quoted = [this] { return fmt::format("\"{}\"", field_name()); };
  switch (field_) {
    case Field::version: version_ = unsigned_value(v, quoted); break;
    case Field::size: size_ = unsigned_value(v, quoted); break;
    case Field::piece_size: piece_size_ = unsigned_value(v, quoted); break;
    case Field::name:
      if (v.type != T::string) fail("\"name\" must be a string");
      name_ = *v.s;
      break;
    case Field::pieces: fail("\"pieces\" must be an array");
    case Field::files: fail("\"files\" must be an array");
    case Field::dirs: fail("\"dirs\" must be an array of paths");
    case Field::trackers: fail("\"trackers\" must be an array of \"host:port\" strings");
    case Field::root: root_ = digest(v, quoted); break;
    case Field::file_sha256: file_sha256_ = digest(v, quoted); break;
    case Field::info_hash: info_hash_ = digest(v, quoted); break;
    case Field::swarm_key: swarm_key_ = digest(v, quoted); break;
    case Field::is_private:
      if (v.type != T::boolean) fail("\"private\" must be true or false");
      is_private_ = v.b;
      break;
    case Field::created:
      if (v.type == T::negative) created_ = v.i;
      else if (v.type == T::unsigned_) created_ = static_cast<std::int64_t>(v.u);
      else fail("\"created\" must be an integer (unix seconds)");
      break;
    case Field::unknown: break;
  }
}

void MetaSax::list_element(const Scalar& v) {
  switch (field_) {
    case Field::pieces:
      if (pieces_.size() >= limits::kMaxPieces)
        fail(fmt::format("more than the {} pieces allowed are listed", limits::kMaxPieces));
      pieces_.push_back(digest(v, [&] { return fmt::format("pieces[{}]", pieces_.size()); }));
      break;
    case Field::files: fail(fmt::format("files[{}] must be an object", files_.size()));
    case Field::dirs:
      if (v.type != Scalar::Type::string) fail(fmt::format("dirs[{}] must be a string", dirs_.size()));
      add_dir(*v.s);
      break;
    case Field::trackers:
      if (v.type != Scalar::Type::string) fail("\"trackers\" must be an array of \"host:port\" strings");
      if (trackers_.size() >= limits::kMaxTrackers) fail(fmt::format("more than {} trackers", limits::kMaxTrackers));
      try {
        validate_tracker(*v.s);
      } catch (const Error& e) {
        fail(e.what());
      }
      trackers_.push_back(*v.s);
      break;
    default: break;
  }
}

bool MetaSax::adopt_pieces(PieceListAhead::List& list) {
  // The list's JSON values: the array, opened where this parse will see "[]", and its elements.
  if (depth() != 1 || field_ != Field::pieces || !pieces_.empty() || !count_.has_room(list.pieces.size() + 1))
    return false;
  count_.add(list.pieces.size());
  pieces_ = std::move(list.pieces);
  return true;
}

void MetaSax::entry_field(const Scalar& v) {
  std::size_t i = files_.size();
  switch (entry_key_) {
    case EntryKey::path:
      if (v.type != Scalar::Type::string) fail(fmt::format("files[{}].path must be a string", i));
      entry_path_.assign(*v.s);
      break;
    case EntryKey::size: entry_size_ = unsigned_value(v, [i] { return fmt::format("files[{}].size", i); }); break;
    case EntryKey::exec:
      if (v.type != Scalar::Type::boolean) fail(fmt::format("files[{}].exec must be true or false", i));
      entry_exec_ = v.b;
      break;
  }
}

// The bounds that grow with each entry, checked as it arrives (where: "files[3]").
void MetaSax::add_cost(std::string_view path, const char* list, std::size_t index) {
  ++cost_.entries;
  cost_.path_bytes += path.size();
  cost_.components += path_components(path);
  cost_.folders = std::max(file_folders_.folders(), dir_folders_.folders());
  if (auto problem = tree_cost_problem(cost_)) fail(fmt::format("{}[{}]: {}", list, index, *problem));
}

void MetaSax::finish_entry() {
  std::size_t i = files_.size();
  if (!entry_has_[0]) fail(fmt::format("files[{}]: missing field \"path\"", i));
  if (!entry_has_[1]) fail(fmt::format("files[{}]: missing field \"size\"", i));
  try {
    validate_tree_path(entry_path_);
  } catch (const Error& e) {
    fail(fmt::format("files[{}].path: {}", i, e.what()));
  }
  if (!files_.empty()) {
    const std::string& prev = files_.back().path;
    if (prev == entry_path_) fail(fmt::format("files[{}]: {:?} is listed twice", i, entry_path_));
    if (prev > entry_path_)
      fail(fmt::format("files[{}]: {:?} comes after {:?}: files must be sorted by path", i, entry_path_, prev));
  }
  file_folders_.add(entry_path_, false);
  add_cost(entry_path_, "files", i);
  MetaFile f;
  f.path = std::string(entry_path_);  // sized to the path, not to the parser's buffer
  f.size = entry_size_;
  f.executable = entry_exec_;
  files_.push_back(std::move(f));
}

void MetaSax::add_dir(const std::string& d) {
  std::size_t i = dirs_.size();
  try {
    validate_tree_path(d);
  } catch (const Error& e) {
    fail(fmt::format("dirs[{}]: {}", i, e.what()));
  }
  if (!dirs_.empty()) {
    if (dirs_.back() == d) fail(fmt::format("dirs[{}]: {:?} is listed twice", i, d));
    if (dirs_.back() > d) fail(fmt::format("dirs[{}]: {:?} comes after {:?}: folders must be sorted", i, d, dirs_.back()));
  }
  dir_folders_.add(d, true);
  add_cost(d, "dirs", i);
  dirs_.push_back(d);
}

Meta MetaSax::finish(bool parallel_digests) {
  auto need = [&](Field f) {
    if (!seen_[static_cast<std::size_t>(f)])
      fail(fmt::format("missing field \"{}\"", kFieldNames[static_cast<std::size_t>(f)]));
  };
  Meta m;
  need(Field::version);
  if (version_ < kOldestMetaFormatVersion || version_ > kTreeMetaFormatVersion)
    fail(fmt::format("format version {} is not supported (this build reads {} to {})", version_,
                     kOldestMetaFormatVersion, kTreeMetaFormatVersion));
  m.version = static_cast<int>(version_);
  need(Field::name);
  try {
    validate_file_name(name_);
  } catch (const Error& e) {
    fail(e.what());
  }
  m.name = std::move(name_);
  need(Field::size);
  need(Field::piece_size);
  m.size = size_;
  m.piece_size = piece_size_;
  if (!std::has_single_bit(m.piece_size) || m.piece_size < limits::kMinPieceSize || m.piece_size > limits::kMaxPieceSize)
    fail(fmt::format("piece_size {} is not a power of two between {} and {}", m.piece_size, limits::kMinPieceSize,
                     limits::kMaxPieceSize));

  std::uint64_t expected = 0, total = 0;
  if (m.is_tree()) {
    need(Field::files);
    // Files are laid out in path order, each starting on a piece boundary.
    for (auto& f : files_) {
      std::uint64_t n = piece_count_for(f.size, m.piece_size);
      if (f.size > std::numeric_limits<std::uint64_t>::max() - total || expected + n > limits::kMaxPieces)
        fail(fmt::format("the files need more than the {} pieces allowed", limits::kMaxPieces));
      f.first_piece = static_cast<std::uint32_t>(expected);
      f.piece_count = static_cast<std::uint32_t>(n);
      total += f.size;
      expected += n;
    }
    m.files = std::move(files_);
    m.empty_dirs = std::move(dirs_);
  } else {
    if (seen_[static_cast<std::size_t>(Field::files)] || seen_[static_cast<std::size_t>(Field::dirs)])
      fail(fmt::format("\"files\" and \"dirs\" belong to a folder's meta (format {}); this one is format {}",
                       kTreeMetaFormatVersion, m.version));
    expected = piece_count_for(m.size, m.piece_size);
  }
  // Everything read goes into the meta first; the checks below then give their verdicts
  // in their one order, the first failing one refusing the meta.
  m.pieces = std::move(pieces_);
  const bool has_file_hash = seen_[static_cast<std::size_t>(Field::file_sha256)];
  if (has_file_hash) {
    m.file_hash = file_sha256_;
    m.has_file_hash = true;
  }
  if (m.version >= 2) m.root = root_;  // format 1: all-zero (absent)
  m.is_private = is_private_;
  const bool has_swarm_key = seen_[static_cast<std::size_t>(Field::swarm_key)];
  if (has_swarm_key) m.swarm_key = swarm_key_;
  m.trackers = std::move(trackers_);
  m.created = created_;

  // The three costly checks side by side on the hashing pool when the meta is big enough
  // to pay for the hand-off: the folder listing's rules, the Merkle root of the pieces and
  // the info hash of the canonical form (a million pieces: 0.15 s each for the digests).
  // Alone (a tracker's worker validating a publish), one after the other, the digests last:
  // a meta refused before them costs none.
  std::optional<std::string> listing_problem;
  Digest computed_root{};
  auto costly = [&](std::size_t which) {
    if (which == 0) {
      if (m.is_tree()) {
        TreeCost cost;
        listing_problem = check_tree_listing(m.files, m.empty_dirs, cost);
      }
    } else if (which == 1) {
      if (m.version >= 2) computed_root = merkle_root(m.pieces);
    } else {
      m.info_hash = info_hash_of(m);
    }
  };
  // The verdicts of everything but the digests, in their one order.
  auto check_all_but_digests = [&] {
    if (listing_problem) fail(*listing_problem);
    if (m.is_tree() && m.size != total) fail(fmt::format("size {} is not the sum of the file sizes, {}", m.size, total));
    if (expected > limits::kMaxPieces)
      fail(fmt::format("{} pieces is more than the {} allowed", expected, limits::kMaxPieces));
    need(Field::pieces);
    if (m.pieces.size() != expected)
      fail(fmt::format("size {} with piece_size {} needs {} pieces, but {} are listed", m.size, m.piece_size, expected,
                       m.pieces.size()));
    if (m.is_tree() && has_file_hash)
      fail("a tree (format 3) has no \"file_sha256\": its identity is the piece hashes");
    if (m.version == 1) need(Field::file_sha256);  // format 1 requires it, format 2 may have it
    if (m.version >= 2) need(Field::root);
    if (has_swarm_key && !m.is_private) fail("\"swarm_key\" in a meta that is not \"private\"");
    if (!has_swarm_key && m.is_private)
      fail("a private meta needs its \"swarm_key\" (64 hex digits); ask whoever shared it for the full meta");
    need(Field::info_hash);
  };
  if (parallel_digests && m.pieces.size() >= kParallelDigestsFromPieces) {
    HashPool::shared().parallel_for(3, costly);
    check_all_but_digests();
  } else {
    costly(0);
    check_all_but_digests();
    costly(1);
    costly(2);
  }
  // Redundant with the pieces by design: a short, name-free identity of the content.
  // A root that disagrees with the pieces is a broken or forged meta.
  if (m.version >= 2 && computed_root != m.root)
    fail(fmt::format("root {} is not the Merkle root of the listed pieces, which is {}", to_hex(m.root),
                     to_hex(computed_root)));
  if (info_hash_ != m.info_hash)
    fail(fmt::format("info_hash {} does not match its contents (computed {})", to_hex(info_hash_),
                     to_hex(m.info_hash)));
  return m;
}

// `ahead`: the pieces list being read on another thread, taken if the parse meets it.
Meta parse_from(JsonByteSource& source, std::string_view origin, bool parallel_digests, PieceListAhead* ahead) {
  MetaSax sax(origin, source.size());
  static_assert(PieceListAhead::kNone == JsonByteSource::kNoSplice);
  if (ahead)
    source.splice({[ahead](std::uint64_t limit) { return ahead->start_before(limit); },
                   [ahead, &sax]() -> std::optional<JsonByteSource::Cut> {
                     auto list = ahead->take();
                     if (!list || !sax.adopt_pieces(*list)) return std::nullopt;
                     return JsonByteSource::Cut{list->end, list->tail_run};
                   },
                   "[]"});
  bool ok = false;
  try {
    ok = json::sax_parse(source.begin(), source.end(), &sax, json::input_format_t::json, /*strict=*/true);
  } catch (const Error&) {
    if (!source.long_token()) throw;  // else the bytes were cut short: say why below
  }
  if (auto t = source.long_token())
    reject(origin, t->in_string ? fmt::format("the string starting at byte {} is longer than the {} bytes any meta "
                                              "has in one",
                                              t->at, limits::kMaxMetaTokenBytes)
                                : fmt::format("more than {} bytes from byte {} without a string: no meta has that",
                                              limits::kMaxMetaTokenBytes, t->at));
  if (!ok) reject(origin, fmt::format("not valid JSON (at byte {})", source.input_offset(sax.error_at())));
  return sax.finish(parallel_digests);
}

}  // namespace

Meta parse_meta(std::string_view json_text, std::string_view origin) {
  JsonByteSource source(json_text, limits::kMaxMetaTokenBytes);
  return parse_from(source, origin, /*parallel_digests=*/false, nullptr);
}

Meta load_meta(const std::filesystem::path& path) {
  File file(path, File::Mode::read);
  std::uint64_t size = file.size();
  if (size > limits::kMaxMetaFileBytes)
    throw Error(ExitCode::input_file,
                fmt::format("{} is {} bytes, more than the {} allowed", path.string(), size, limits::kMaxMetaFileBytes));
  // The two digests at the end need OpenSSL's SHA-256: fetched meanwhile.
  Sha256Prefetch prefetch;
  JsonByteSource source(file, size, limits::kMaxMetaTokenBytes);
  std::optional<PieceListAhead> ahead;  // joined before `source` goes
  if (size >= kPiecesAheadFromBytes) ahead.emplace(file, size);
  return parse_from(source, path.string(), /*parallel_digests=*/true, ahead ? &*ahead : nullptr);
}

}  // namespace p2p
