// Fuzzes wire::decode_header on arbitrary text. Checks: only ProtocolError
// escapes; every accepted header survives encode -> decode unchanged (message
// and payload length), and encode's 4-byte prefix states the header's length.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "format/wire.hpp"

using namespace p2p;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  wire::Header h;
  try {
    h = wire::decode_header(text);
  } catch (const wire::ProtocolError&) {
    return 0;
  }
  std::string frame = wire::encode(h.message, h.payload_len);
  if (frame.size() < wire::kPrefixBytes) __builtin_trap();
  std::string_view json = std::string_view(frame).substr(wire::kPrefixBytes);
  auto b = [&](std::size_t i) { return std::uint32_t{static_cast<std::uint8_t>(frame[i])}; };
  if ((b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3)) != json.size()) __builtin_trap();
  wire::Header again;
  try {
    again = wire::decode_header(json);
  } catch (const wire::ProtocolError&) {
    __builtin_trap();  // we refused what we ourselves encoded
  }
  if (!(again.message == h.message) || again.payload_len != h.payload_len) __builtin_trap();
  return 0;
}
