// Fuzzes the bencode codec and the BEP 15 datagram parser (both read bytes from
// the network or from .torrent files). Byte 0 picks: 'u' the rest is a UDP tracker
// datagram; else the rest is bencode. Checks: decoding either accepts or throws
// p2p::Error, never anything else; an accepted value re-encodes to exactly its input
// (the decoder accepts canonical form only); a parsed datagram keeps its lengths.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "base/error.hpp"
#include "format/bencode.hpp"
#include "format/bt_udp_frames.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if (data[0] == 'u') {
    p2p::bt_udp::Request r;
    std::string error = p2p::bt_udp::parse_request(std::span<const std::uint8_t>(data + 1, size - 1), r);
    if (error.empty() && r.action == p2p::bt_udp::Action::scrape &&
        (r.hashes.empty() || r.hashes.size() > p2p::bt_udp::kMaxScrapeHashes))
      std::abort();
    return 0;
  }
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    p2p::bencode::Value v = p2p::bencode::decode(in);
    if (p2p::bencode::encode(v) != in) std::abort();  // canonical input re-encodes byte for byte
  } catch (const p2p::Error&) {
  }
  return 0;
}
