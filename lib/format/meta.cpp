// Meta parsing, validation, canonical info hash and creation (parallel streaming hash).
#include "format/meta.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fmt/core.h>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "base/address.hpp"
#include "base/utf8.hpp"
#include "base/error.hpp"
#include "base/file_io.hpp"
#include "base/limits.hpp"

namespace p2p {

using nlohmann::json;

std::uint32_t Meta::piece_length(std::uint32_t index) const {
  std::uint64_t start = piece_offset(index);
  return static_cast<std::uint32_t>(std::min(piece_size, size - start));
}

std::uint64_t piece_count_for(std::uint64_t size, std::uint64_t piece_size) {
  // Not (size + piece_size - 1) / piece_size: that wraps for sizes near 2^64 (found by fuzz_meta_parser).
  return piece_size == 0 ? 0 : size / piece_size + (size % piece_size != 0);
}

std::uint64_t auto_piece_size(std::uint64_t file_size) {
  std::uint64_t ps = limits::kMinPieceSize;
  while (ps < limits::kMaxPieceSize && piece_count_for(file_size, ps) > limits::kTargetMaxPieces) ps *= 2;
  return ps;
}

void validate_file_name(std::string_view name) {
  auto bad = [&](std::string_view why) {
    throw Error(ExitCode::bad_meta, fmt::format("unsafe file name {:?}: {}", std::string(name), why));
  };
  if (name.empty()) bad("empty");
  if (name.size() > limits::kMaxNameBytes) bad(fmt::format("longer than {} bytes", limits::kMaxNameBytes));
  if (name == "." || name == "..") bad("a relative path component");
  if (name == ".p2p") bad("reserved: p2p-share keeps its own files in a folder of that name");
  if (!is_valid_utf8(name)) bad("not valid UTF-8");
  for (unsigned char c : name) {
    if (c == '/' || c == '\\') bad("contains a path separator");
    if (c < 0x20 || c == 0x7f) bad("contains a control character");
  }
}

void validate_tracker(std::string_view tracker) {
  std::string why;
  bool printable = true;
  for (unsigned char c : tracker) printable &= c > 0x20 && c != 0x7f && c != '/';
  if (!printable) why = "contains a space, a slash or a control character";
  if (!printable || !parse_host_port(tracker, why))
    throw Error(ExitCode::usage, fmt::format("tracker {:?}: {}", std::string(tracker), why));
}

static json info_json(const Meta& m) {
  json pieces = json::array();
  for (const auto& d : m.pieces) pieces.push_back(to_hex(d));
  return json{{"version", m.version},      {"name", m.name},
              {"size", m.size},            {"piece_size", m.piece_size},
              {"pieces", std::move(pieces)}, {"file_sha256", to_hex(m.file_hash)}};
}

std::string canonical_info(const Meta& meta) { return info_json(meta).dump(); }

namespace {

[[noreturn]] void reject(std::string_view origin, std::string_view what) {
  throw Error(ExitCode::bad_meta, fmt::format("invalid meta {}: {}", origin, what));
}

const json& field(const json& j, const char* key, std::string_view origin) {
  auto it = j.find(key);
  if (it == j.end()) reject(origin, fmt::format("missing field \"{}\"", key));
  return *it;
}

std::uint64_t uint_field(const json& j, const char* key, std::string_view origin) {
  const json& v = field(j, key, origin);
  if (!v.is_number_unsigned()) reject(origin, fmt::format("\"{}\" must be a non-negative integer", key));
  return v.get<std::uint64_t>();
}

std::string string_field(const json& j, const char* key, std::string_view origin) {
  const json& v = field(j, key, origin);
  if (!v.is_string()) reject(origin, fmt::format("\"{}\" must be a string", key));
  return v.get<std::string>();
}

Digest digest_field(const json& v, std::string_view what, std::string_view origin) {
  Digest d{};
  if (!v.is_string() || !digest_from_hex(v.get_ref<const std::string&>(), d))
    reject(origin, fmt::format("{} must be 64 hex digits", what));
  return d;
}

}  // namespace

Meta parse_meta(std::string_view json_text, std::string_view origin) {
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) reject(origin, "not valid JSON");
  if (!j.is_object()) reject(origin, "top level must be a JSON object");

  Meta m;
  std::uint64_t version = uint_field(j, "version", origin);
  if (version != kMetaFormatVersion)
    reject(origin, fmt::format("format version {} is not supported (this build reads {})", version, kMetaFormatVersion));
  m.version = kMetaFormatVersion;
  m.name = string_field(j, "name", origin);
  try {
    validate_file_name(m.name);
  } catch (const Error& e) {
    reject(origin, e.what());
  }
  m.size = uint_field(j, "size", origin);
  m.piece_size = uint_field(j, "piece_size", origin);
  if (!std::has_single_bit(m.piece_size) || m.piece_size < limits::kMinPieceSize || m.piece_size > limits::kMaxPieceSize)
    reject(origin, fmt::format("piece_size {} is not a power of two between {} and {}", m.piece_size,
                               limits::kMinPieceSize, limits::kMaxPieceSize));
  std::uint64_t expected = piece_count_for(m.size, m.piece_size);
  if (expected > limits::kMaxPieces)
    reject(origin, fmt::format("{} pieces is more than the {} allowed", expected, limits::kMaxPieces));
  const json& pieces = field(j, "pieces", origin);
  if (!pieces.is_array()) reject(origin, "\"pieces\" must be an array");
  if (pieces.size() != expected)
    reject(origin, fmt::format("size {} with piece_size {} needs {} pieces, but {} are listed", m.size, m.piece_size,
                               expected, pieces.size()));
  m.pieces.reserve(pieces.size());
  for (std::size_t i = 0; i < pieces.size(); ++i)
    m.pieces.push_back(digest_field(pieces[i], fmt::format("pieces[{}]", i), origin));
  m.file_hash = digest_field(field(j, "file_sha256", origin), "\"file_sha256\"", origin);

  if (auto it = j.find("trackers"); it != j.end()) {
    if (!it->is_array()) reject(origin, "\"trackers\" must be an array of \"host:port\" strings");
    if (it->size() > limits::kMaxTrackers) reject(origin, fmt::format("more than {} trackers", limits::kMaxTrackers));
    for (const auto& t : *it) {
      if (!t.is_string()) reject(origin, "\"trackers\" must be an array of \"host:port\" strings");
      try {
        validate_tracker(t.get_ref<const std::string&>());
      } catch (const Error& e) {
        reject(origin, e.what());
      }
      m.trackers.push_back(t.get<std::string>());
    }
  }
  if (auto it = j.find("created"); it != j.end()) {
    if (!it->is_number_integer()) reject(origin, "\"created\" must be an integer (unix seconds)");
    m.created = it->get<std::int64_t>();
  }

  m.info_hash = sha256(canonical_info(m));
  Digest stated = digest_field(field(j, "info_hash", origin), "\"info_hash\"", origin);
  if (stated != m.info_hash)
    reject(origin, fmt::format("info_hash {} does not match its contents (computed {})", to_hex(stated),
                               to_hex(m.info_hash)));
  return m;
}

Meta load_meta(const std::filesystem::path& path) {
  std::string text = read_small_file(path, limits::kMaxMetaFileBytes);
  return parse_meta(text, path.string());
}

std::string meta_to_json(const Meta& meta) {
  json j = info_json(meta);
  j["info_hash"] = meta.info_hash_hex();
  j["trackers"] = meta.trackers;
  j["created"] = meta.created;
  return j.dump(1) + "\n";
}

namespace {

// A bounded FIFO handing chunks from the reader to the hashing threads.
template <typename T>
class Channel {
 public:
  explicit Channel(std::size_t capacity) : capacity_(capacity) {}
  void push(T v) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < capacity_; });
    q_.push_back(std::move(v));
    not_empty_.notify_one();
  }
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }
  std::optional<T> pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return std::nullopt;
    T v = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return v;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> q_;
  std::size_t capacity_;
  bool closed_ = false;
};

}  // namespace

FileHashes hash_file(const std::filesystem::path& path, std::uint64_t piece_size, bool want_file_hash) {
  File file(path, File::Mode::read);
  FileHashes out;
  out.size = file.size();
  std::uint64_t count = piece_count_for(out.size, piece_size);
  if (count > limits::kMaxPieces)
    throw Error(ExitCode::usage, fmt::format("{} would need {} pieces of {} bytes; the limit is {}", path.string(),
                                             count, piece_size, limits::kMaxPieces));
  out.pieces.resize(count);

  // Chunks are whole pieces, at least 4 MiB, so each is read once and shared by both hashes.
  const std::uint64_t chunk_size = std::max<std::uint64_t>(piece_size, 4ull << 20) / piece_size * piece_size;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned piece_workers = want_file_hash ? std::max(1u, cores - 1) : cores;
  const std::size_t in_flight = piece_workers + 3;

  // A buffer returns to free_q when the last hasher using it is done.
  struct Shared {
    std::vector<std::uint8_t> data;
    std::atomic<int> users{0};
  };
  struct Job {
    std::shared_ptr<Shared> s;
    std::uint64_t offset;
    std::size_t len;
  };
  Channel<std::shared_ptr<Shared>> free_q(in_flight);
  for (std::size_t i = 0; i < in_flight; ++i) {
    auto s = std::make_shared<Shared>();
    s->data.resize(chunk_size);
    free_q.push(std::move(s));
  }
  auto done_with = [&](const std::shared_ptr<Shared>& s) {
    if (s->users.fetch_sub(1) == 1) free_q.push(s);
  };
  Channel<Job> pjobs(in_flight), fjobs(in_flight);

  std::vector<std::thread> threads;
  for (unsigned w = 0; w < piece_workers; ++w) {
    threads.emplace_back([&] {
      while (auto job = pjobs.pop()) {
        const auto* base = job->s->data.data();
        for (std::size_t at = 0; at < job->len; at += piece_size) {
          std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(piece_size, job->len - at));
          out.pieces[(job->offset + at) / piece_size] = sha256(std::span(base + at, n));
        }
        done_with(job->s);
      }
    });
  }
  Sha256 whole;
  if (want_file_hash) {
    threads.emplace_back([&] {
      while (auto job = fjobs.pop()) {
        whole.update(std::span<const std::uint8_t>(job->s->data.data(), job->len));
        done_with(job->s);
      }
    });
  }

  std::exception_ptr failure;
  try {
    for (std::uint64_t offset = 0; offset < out.size; offset += chunk_size) {
      auto s = *free_q.pop();
      std::size_t len = static_cast<std::size_t>(std::min(chunk_size, out.size - offset));
      file.read_at(offset, std::span(s->data.data(), len));
      s->users = want_file_hash ? 2 : 1;
      pjobs.push(Job{s, offset, len});
      if (want_file_hash) fjobs.push(Job{s, offset, len});
    }
  } catch (...) {
    failure = std::current_exception();
  }
  pjobs.close();
  fjobs.close();
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  if (file.size() != out.size)
    throw Error(ExitCode::input_file, fmt::format("{} changed size while being hashed", path.string()));
  out.file_hash = want_file_hash ? whole.finish() : Digest{};
  return out;
}

Meta create_meta(const std::filesystem::path& path, std::uint64_t piece_size,
                 const std::vector<std::string>& trackers) {
  auto name = path.filename().string();
  validate_file_name(name);
  for (const auto& t : trackers) validate_tracker(t);
  if (trackers.size() > limits::kMaxTrackers)
    throw Error(ExitCode::usage, fmt::format("at most {} trackers", limits::kMaxTrackers));
  Meta m;
  {
    File probe(path, File::Mode::read);
    m.size = probe.size();
  }
  if (piece_size == 0) piece_size = auto_piece_size(m.size);
  if (!std::has_single_bit(piece_size) || piece_size < limits::kMinPieceSize || piece_size > limits::kMaxPieceSize)
    throw Error(ExitCode::usage, fmt::format("piece size {} is not a power of two between {} and {}", piece_size,
                                             limits::kMinPieceSize, limits::kMaxPieceSize));
  m.piece_size = piece_size;
  m.name = name;
  FileHashes h = hash_file(path, piece_size, true);
  m.size = h.size;
  m.pieces = std::move(h.pieces);
  m.file_hash = h.file_hash;
  m.trackers = trackers;
  m.created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  m.info_hash = sha256(canonical_info(m));
  return m;
}

}  // namespace p2p
