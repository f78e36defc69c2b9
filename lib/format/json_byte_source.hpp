// JSON bytes for a streaming parser (nlohmann::json::sax_parse over begin()/end()),
// from memory or read from a file in 1 MiB slices, with a bound on what the parser
// would buffer: nlohmann's lexer keeps a whole string, a whole number, and every byte
// since the last string or number, before it says anything. Each slice is scanned
// before the parser sees it; a string longer than `max_token` bytes as written, or
// more than `max_token` bytes outside any string, ends the bytes there (the parser
// then sees them end) and long_token() says where.
#pragma once
#include <cstdint>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/file_io.hpp"

namespace p2p {

class JsonByteSource {
 public:
  JsonByteSource(std::string_view text, std::uint64_t max_token);
  // Reads `size` bytes of `file` (which must outlive the source).
  JsonByteSource(const File& file, std::uint64_t size, std::uint64_t max_token);
  // Reads the bytes [begin, end) of `file`.
  JsonByteSource(const File& file, std::uint64_t begin, std::uint64_t end, std::uint64_t max_token);

  // A stretch of the bytes the caller may hand the parser in another spelling (a list
  // read ahead on another thread: format/piece_list_ahead.hpp). Before the bytes of each
  // slice go to the parser, `start_before(limit)` says where the stretch starts if below
  // `limit` (else kNoSplice); the bytes handed out stop there, and at that offset `take()`
  // decides: a Cut, and the parser sees `replacement` instead of the bytes up to the cut's
  // end; nothing, and it sees the bytes. One splice per source, tried once. Slices are
  // read and scanned as without a splice (ending at multiples of the slice size), so the
  // bound on long tokens is met at the same bytes either way.
  static constexpr std::uint64_t kNoSplice = ~std::uint64_t{0};
  struct Cut {
    std::uint64_t end = 0;       // one past the last byte replaced
    std::uint64_t tail_run = 0;  // of those, the bytes after the last string (for the long-token bound)
  };
  struct Splice {
    std::function<std::uint64_t(std::uint64_t limit)> start_before;
    std::function<std::optional<Cut>()> take;
    std::string_view replacement;  // outside any string
  };
  void splice(Splice s) { splice_ = std::move(s); }
  // A position the parser counted (bytes it was handed) as an offset in the input.
  std::uint64_t input_offset(std::uint64_t parser_position) const;

  struct LongToken {
    std::uint64_t at = 0;  // byte offset where the string or the stretch began
    bool in_string = false;
  };
  const std::optional<LongToken>& long_token() const { return long_token_; }

  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = const char&;

    Iterator() = default;
    reference operator*() const { return *p_; }
    Iterator& operator++() {
      if (++p_ == end_) source_->next(p_, end_);
      return *this;
    }
    Iterator operator++(int) {
      Iterator old = *this;
      ++*this;
      return old;
    }
    // Two iterators are equal when both are at the end, or at the same byte. An
    // iterator that is not at the end always has p_ < end_ (++ fetches the next slice
    // on reaching end_), and one at the end has p_ == nullptr (next() says so), so one
    // comparison answers: the parser asks this for every byte.
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.p_ == b.p_; }

   private:
    friend class JsonByteSource;
    JsonByteSource* source_ = nullptr;
    const char* p_ = nullptr;
    const char* end_ = nullptr;
  };
  Iterator begin();
  Iterator end() { return Iterator(); }
  std::uint64_t size() const { return size_; }  // bytes in all

 private:
  // The next scanned bytes into [p, end); p == end when there are none.
  void next(const char*& p, const char*& end);
  // Reads and scans the slice from pos_ to the next multiple of the slice size.
  void read_slice();
  // Scans a slice; returns how many of its bytes may go to the parser.
  std::size_t scan(const char* data, std::size_t n);

  std::string_view text_;  // memory: the whole input
  const File* file_ = nullptr;
  std::uint64_t size_ = 0;    // where the bytes end
  std::uint64_t pos_ = 0;     // the next byte for the parser
  std::uint64_t offset_ = 0;  // where the current slice starts (its scan's positions count from it)
  std::uint64_t slice_end_ = 0, usable_end_ = 0;  // where it ends; where its scanned bytes end
  const char* data_ = nullptr;  // the current slice's bytes
  std::vector<char> buffer_;    // a file's current slice
  std::uint64_t max_token_;
  bool in_string_ = false, escaped_ = false, stopped_ = false;
  std::uint64_t run_ = 0;        // bytes of the current string, or since the last one
  std::uint64_t run_start_ = 0;  // where it began
  std::optional<LongToken> long_token_;
  std::optional<Splice> splice_;
  std::uint64_t splice_start_ = kNoSplice;  // where the stretch starts, once known
  std::optional<std::pair<std::uint64_t, std::uint64_t>> spliced_;  // a cut taken: [start, end)
};

}  // namespace p2p
