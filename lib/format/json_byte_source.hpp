// JSON bytes for a streaming parser (nlohmann::json::sax_parse over begin()/end()),
// from memory or read from a file in 1 MiB slices, with a bound on what the parser
// would buffer: nlohmann's lexer keeps a whole string, a whole number, and every byte
// since the last string or number, before it says anything. Each slice is scanned
// before the parser sees it; a string longer than `max_token` bytes as written, or
// more than `max_token` bytes outside any string, ends the bytes there (the parser
// then sees them end) and long_token() says where.
#pragma once
#include <cstdint>
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
  // The next scanned slice into [p, end); p == end when there is none.
  void next(const char*& p, const char*& end);
  // Scans a slice; returns how many of its bytes may go to the parser.
  std::size_t scan(const char* data, std::size_t n);

  std::string_view text_;  // memory: the whole input
  const File* file_ = nullptr;
  std::uint64_t size_ = 0, offset_ = 0;  // bytes in all, and handed out so far
  std::vector<char> buffer_;             // a file's current slice
  std::uint64_t max_token_;
  bool in_string_ = false, escaped_ = false, stopped_ = false;
  std::uint64_t run_ = 0;        // bytes of the current string, or since the last one
  std::uint64_t run_start_ = 0;  // where it began
  std::optional<LongToken> long_token_;
};

}  // namespace p2p
