// JsonByteSource: slices of JSON bytes, each scanned for tokens too long to buffer.
#include "format/json_byte_source.hpp"

#include <algorithm>
#include <cstring>

namespace p2p {

namespace {
constexpr std::size_t kSliceBytes = 64 << 10;
}

JsonByteSource::JsonByteSource(std::string_view text, std::uint64_t max_token)
    : text_(text), size_(text.size()), max_token_(max_token) {}

JsonByteSource::JsonByteSource(const File& file, std::uint64_t size, std::uint64_t max_token)
    : file_(&file), size_(size), max_token_(max_token) {}

JsonByteSource::JsonByteSource(const File& file, std::uint64_t begin, std::uint64_t end, std::uint64_t max_token)
    : file_(&file), size_(end), pos_(begin), slice_end_(begin), usable_end_(begin), max_token_(max_token) {}

std::uint64_t JsonByteSource::input_offset(std::uint64_t parser_position) const {
  if (!spliced_ || parser_position <= spliced_->first) return parser_position;
  std::uint64_t replaced = spliced_->second - spliced_->first, shown = splice_->replacement.size();
  return parser_position + replaced - shown;
}

JsonByteSource::Iterator JsonByteSource::begin() {
  Iterator it;
  it.source_ = this;
  next(it.p_, it.end_);
  return it;
}

void JsonByteSource::read_slice() {
  // Slices end at multiples of kSliceBytes, wherever reading started or resumed: how far
  // the scan is ahead of the parser, and so which of a long token and a syntax error is
  // met first, does not depend on a splice.
  offset_ = pos_;
  std::uint64_t aligned = (pos_ / kSliceBytes + 1) * kSliceBytes;
  std::size_t n = static_cast<std::size_t>(std::min(aligned, size_) - pos_);
  if (file_) {
    buffer_.resize(n);
    file_->read_at(pos_, std::span(reinterpret_cast<std::uint8_t*>(buffer_.data()), n));
    data_ = buffer_.data();
  } else {
    data_ = text_.data() + pos_;
  }
  std::size_t usable = scan(data_, n);
  slice_end_ = pos_ + n;
  usable_end_ = pos_ + usable;
  if (usable < n) stopped_ = true;
}

void JsonByteSource::next(const char*& p, const char*& end) {
  p = end = nullptr;
  if (pos_ >= usable_end_) {  // the current slice is handed out: the next one
    if (stopped_ || pos_ >= size_) return;
    read_slice();
    if (usable_end_ <= pos_) return;  // a long token right at its start
  }
  std::uint64_t stop = usable_end_;
  if (splice_ && !spliced_) {
    if (splice_start_ == kNoSplice) splice_start_ = splice_->start_before(usable_end_);
    if (splice_start_ == pos_) {  // reached: tried once
      splice_start_ = kNoSplice;
      if (auto cut = splice_->take(); cut && cut->end > pos_ && cut->end <= size_ && cut->tail_run <= cut->end - pos_) {
        spliced_.emplace(pos_, cut->end);
        pos_ = cut->end;
        if (pos_ >= slice_end_) {
          // The next slice starts there, the bound on runs going on as if the parser had
          // seen the bytes (the stretch's last string ended tail_run bytes before its end).
          // Within this slice instead, its scan already is what those bytes left.
          in_string_ = escaped_ = false;
          run_ = cut->tail_run;
          run_start_ = cut->end - cut->tail_run;
          usable_end_ = slice_end_ = pos_;
        }
        p = splice_->replacement.data();
        end = p + splice_->replacement.size();
        return;
      }
      splice_.reset();
    } else if (splice_start_ != kNoSplice && splice_start_ < pos_) {
      splice_.reset();  // behind us: never
    } else if (splice_start_ != kNoSplice && splice_start_ < stop) {
      stop = splice_start_;  // the parser gets the bytes up to it; then the decision
    }
  }
  p = data_ + (pos_ - offset_);
  end = data_ + (stop - offset_);
  pos_ = stop;
}

std::size_t JsonByteSource::scan(const char* d, std::size_t n) {
  std::size_t i = 0;
  // Past the bound: the bytes of the run beyond max_token_ (all in this slice, since
  // the run was within it at the slice's start) are not handed out.
  auto too_long = [&]() -> std::size_t {
    long_token_ = LongToken{run_start_, in_string_};
    return i - static_cast<std::size_t>(run_ - max_token_);
  };
  while (i < n) {
    if (in_string_) {
      if (escaped_) {  // the byte after a backslash, whatever it is
        escaped_ = false;
        ++i;
        if (++run_ > max_token_) return too_long();
        continue;
      }
      std::size_t k = i;
      while (k < n && d[k] != '"' && d[k] != '\\') ++k;
      run_ += k - i;
      i = k;
      if (run_ > max_token_) return too_long();
      if (i == n) break;
      ++run_;
      if (d[i] == '\\') {
        escaped_ = true;
      } else {
        in_string_ = false;
        run_ = 0;
        run_start_ = offset_ + i + 1;
      }
      ++i;
      if (run_ > max_token_) return too_long();
      continue;
    }
    const void* quote = std::memchr(d + i, '"', n - i);
    std::size_t k = quote ? static_cast<std::size_t>(static_cast<const char*>(quote) - d) : n;
    run_ += k - i;
    i = k;
    if (run_ > max_token_) return too_long();
    if (i == n) break;
    in_string_ = true;
    run_ = 1;
    run_start_ = offset_ + i;
    ++i;
  }
  return n;
}

}  // namespace p2p
