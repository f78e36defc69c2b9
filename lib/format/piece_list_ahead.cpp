// PieceListAhead: the "pieces" array found by a scan of the bytes, then parsed alone on
// its own thread (piece_list_ahead.hpp).
#include "format/piece_list_ahead.hpp"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string_view>

#include "base/file_io.hpp"
#include "base/huge_pages.hpp"
#include "base/limits.hpp"
#include "format/json_byte_source.hpp"

namespace p2p {

namespace {

constexpr std::size_t kScanSliceBytes = 64 << 10;
// "Plainly written": no string and no stretch between strings in the array (nor from
// the key to its first string) longer than this. A meta written by p2p-create has 64
// and about 4; the reader's own bound on such runs (kMaxMetaTokenBytes) is far above,
// so a list kept here is one the reader would have taken too.
constexpr std::uint64_t kPlainRun = 256;
constexpr std::string_view kKey = "pieces";
// The fewest bytes one element takes ("<64 hex digits>",): the list's reservation.
constexpr std::uint64_t kMinListedPieceBytes = 67;

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// nlohmann's SAX interface for the array alone: hex digests, nothing else.
class PieceSax {
 public:
  PieceSax(std::vector<Digest>& out, const std::atomic<bool>& stop) : out_(out), stop_(stop) {}
  bool null() { return false; }
  bool boolean(bool) { return false; }
  bool number_integer(nlohmann::json::number_integer_t) { return false; }
  bool number_unsigned(nlohmann::json::number_unsigned_t) { return false; }
  bool number_float(nlohmann::json::number_float_t, const nlohmann::json::string_t&) { return false; }
  bool binary(nlohmann::json::binary_t&) { return false; }
  bool string(nlohmann::json::string_t& s) {
    Digest d{};
    if (depth_ != 1 || out_.size() >= limits::kMaxPieces || !digest_from_hex(s, d)) return false;
    out_.push_back(d);
    // Now and then: a reader that gave up (an error before the list) stops this early.
    return (out_.size() & 4095) != 0 || !stop_.load(std::memory_order_relaxed);
  }
  bool start_object(std::size_t) { return false; }
  bool end_object() { return false; }
  bool key(nlohmann::json::string_t&) { return false; }
  bool start_array(std::size_t) {
    if (depth_ != 0) return false;
    ++depth_;
    return true;
  }
  bool end_array() {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

 private:
  std::vector<Digest>& out_;
  const std::atomic<bool>& stop_;
  int depth_ = 0;
};

}  // namespace

PieceListAhead::PieceListAhead(const File& file, std::uint64_t size) : file_(file), size_(size) {
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error&) {
    // No thread to spare: nothing is read ahead, the reader reads it all.
    std::lock_guard lock(mutex_);
    scan_done_ = finished_ = true;
  }
}

PieceListAhead::~PieceListAhead() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void PieceListAhead::run() {
  try {
    scan();
    if (end_ != kNone && !stop_) parse();
  } catch (...) {
    // A read that failed: the reader reads the bytes itself, and says so if it fails too.
    list_.reset();
  }
  std::lock_guard lock(mutex_);
  scan_done_ = finished_ = true;
  changed_.notify_all();
}

void PieceListAhead::publish_scan(std::uint64_t scanned, bool done) {
  std::lock_guard lock(mutex_);
  scanned_ = scanned;
  scan_done_ = done;
  changed_.notify_all();
}

std::uint64_t PieceListAhead::start_before(std::uint64_t limit) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return begin_ != kNone || scan_done_ || scanned_ >= limit; });
  return begin_ < limit ? begin_ : kNone;
}

std::optional<PieceListAhead::List> PieceListAhead::take() {
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return finished_; });
  }
  return std::move(list_);
}

void PieceListAhead::scan() {
  std::vector<char> buffer(kScanSliceBytes);
  int depth = 0;
  bool in_string = false, escaped = false;
  bool top_string = false;   // the string being read is at the top level (a key, or a value)
  std::size_t matched = 0;   // its bytes so far spell the start of kKey (when top_string)
  bool key_is_pieces = false;  // the last top-level string was "pieces", nothing after it yet
  bool expect_value = false;   // after "pieces" and its ':'
  bool in_array = false;
  std::uint64_t string_start = 0, run_start = 0;  // where the current string / stretch began
  auto give_up = [&] {
    publish_scan(size_, true);  // begin_ stays as found, if it was: take() says there is no list
  };
  for (std::uint64_t base = 0; base < size_; base += kScanSliceBytes) {
    if (stop_) return give_up();
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kScanSliceBytes, size_ - base));
    file_.read_at(base, std::span(reinterpret_cast<std::uint8_t*>(buffer.data()), n));
    const char* d = buffer.data();
    for (std::size_t i = 0; i < n; ++i) {
      const char c = d[i];
      const std::uint64_t at = base + i;
      if (in_string) {
        if (escaped) {
          escaped = false;
        } else if (c == '\\') {
          if (in_array) return give_up();  // not plainly written
          escaped = true;
          matched = kKey.size() + 1;       // an escaped key is not matched here
        } else if (c == '"') {
          in_string = false;
          if (in_array) {
            if (at - string_start > kPlainRun) return give_up();
            run_start = at + 1;
          } else if (top_string) {
            key_is_pieces = matched == kKey.size();
            if (key_is_pieces) run_start = at + 1;
          }
        } else if (top_string && !in_array) {
          matched = matched < kKey.size() && c == kKey[matched] ? matched + 1 : kKey.size() + 1;
        } else {  // the rest of a string no key is matched in: to its next quote or backslash
          const char* from = d + i + 1;
          const void* quote = std::memchr(from, '"', static_cast<std::size_t>(d + n - from));
          const char* stop = quote ? static_cast<const char*>(quote) : d + n;
          const void* backslash = std::memchr(from, '\\', static_cast<std::size_t>(stop - from));
          i = static_cast<std::size_t>((backslash ? static_cast<const char*>(backslash) : stop) - d) - 1;
        }
        continue;
      }
      if (is_json_space(c)) continue;
      if (in_array && at - run_start > kPlainRun) return give_up();
      if (expect_value && c != '[') return give_up();  // "pieces" is not an array: the reader says so
      switch (c) {
        case '"':
          in_string = true;
          string_start = at;
          top_string = depth == 1;
          matched = 0;
          key_is_pieces = false;
          break;
        case ':':
          expect_value = depth == 1 && key_is_pieces;
          key_is_pieces = false;
          break;
        case '[':
          if (expect_value) {
            expect_value = false;
            in_array = true;
            std::lock_guard lock(mutex_);
            begin_ = at;
            changed_.notify_all();
          } else if (in_array) {
            return give_up();  // nested: not a list of digests
          }
          ++depth;
          break;
        case '{':
          if (in_array) return give_up();
          ++depth;
          break;
        case ']':
        case '}':
          --depth;
          if (in_array && depth == 1) {
            if (c != ']' || run_start <= begin_) return give_up();  // mismatched, or no string in it
            end_ = at + 1;
            tail_run_ = end_ - run_start;
            publish_scan(size_, true);
            return;
          }
          break;
        default:
          key_is_pieces = false;
          break;
      }
    }
    publish_scan(base + n, false);
  }
  give_up();
}

void PieceListAhead::parse() {
  List list;
  list.begin = begin_;
  list.end = end_;
  list.tail_run = tail_run_;
  list.pieces.reserve(static_cast<std::size_t>(std::min(limits::kMaxPieces, (end_ - begin_) / kMinListedPieceBytes + 1)));
  advise_huge_pages(list.pieces.data(), list.pieces.capacity() * sizeof(Digest));
  JsonByteSource source(file_, begin_, end_, limits::kMaxMetaTokenBytes);
  PieceSax sax(list.pieces, stop_);
  bool ok = nlohmann::json::sax_parse(source.begin(), source.end(), &sax, nlohmann::json::input_format_t::json,
                                      /*strict=*/true);
  if (!ok || source.long_token() || stop_) return;
  list_ = std::move(list);
}

}  // namespace p2p
