// Fuzzes wire::FrameDecoder with arbitrary bytes fed in arbitrary splits.
// Input: byte 0 chooses the split pattern, the rest is the byte stream.
// Checks: only ProtocolError escapes; decoding in pieces yields exactly the
// frames (and the error) that decoding the whole stream at once yields; the
// decoder never holds more than one frame plus the last chunk.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/limits.hpp"
#include "format/wire.hpp"

using namespace p2p;

namespace {

struct Outcome {
  std::vector<wire::FrameDecoder::Frame> frames;
  bool failed = false;
};

template <typename NextChunk>
Outcome decode(std::span<const std::uint8_t> stream, NextChunk next_chunk) {
  Outcome out;
  wire::FrameDecoder dec;
  std::size_t at = 0;
  try {
    while (at < stream.size()) {
      std::size_t n = std::min(next_chunk(), stream.size() - at);
      dec.feed(stream.subspan(at, n));
      at += n;
      while (auto f = dec.next()) out.frames.push_back(std::move(*f));
      constexpr std::size_t kMaxFrame = wire::kPrefixBytes + limits::kMaxHeaderBytes + limits::kMaxPayloadBytes;
      if (dec.buffered() > kMaxFrame + n) __builtin_trap();  // buffers more than one frame
    }
  } catch (const wire::ProtocolError&) {
    out.failed = true;
  }
  return out;
}

bool same(const Outcome& a, const Outcome& b) {
  if (a.failed != b.failed || a.frames.size() != b.frames.size()) return false;
  for (std::size_t i = 0; i < a.frames.size(); ++i)
    if (!(a.frames[i].message == b.frames[i].message) || a.frames[i].payload != b.frames[i].payload) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t pattern = data[0];
  std::span<const std::uint8_t> stream(data + 1, size - 1);

  Outcome whole = decode(stream, [&] { return stream.size(); });

  // Split lengths from a small PRNG: 0..max_chunk bytes per feed (0 = an empty feed).
  std::uint32_t state = 0x9e3779b9u ^ pattern;
  const std::size_t max_chunk = std::size_t{1} << (pattern & 7);  // 1..128
  std::size_t zero_guard = 0;
  Outcome split = decode(stream, [&] {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    std::size_t n = state % (max_chunk + 1);
    if (n == 0 && ++zero_guard % 4 != 0) return n;
    return n == 0 ? std::size_t{1} : n;
  });

  if (!same(whole, split)) __builtin_trap();
  return 0;
}
