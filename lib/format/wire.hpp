// The peer wire protocol codec (docs/PROTOCOL.md): messages to bytes and back.
// No I/O here; the decoder checks every length and field against limits.hpp
// before allocating or trusting it.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/sha256.hpp"

namespace p2p::wire {

inline constexpr int kProtocolVersion = 1;
inline constexpr std::string_view kProtocolName = "p2p-share";
inline constexpr std::size_t kPrefixBytes = 4;  // big-endian header length

// Any violation of the wire format by the remote side.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PeerAddress {
  std::string host;  // numeric IPv4/IPv6 address
  std::uint16_t port = 0;
  bool operator==(const PeerAddress&) const = default;
  auto operator<=>(const PeerAddress&) const = default;
};

struct Handshake {
  int version = kProtocolVersion;
  Digest info_hash{};
  std::string peer_id;          // 40 hex digits, random per process
  std::uint16_t listen_port = 0;// 0: does not accept connections
  // The sender has every piece and only seeds: two seeders part at once (both ends dial,
  // so they meet). Optional on the wire ("seed": true); absent means false.
  bool seed = false;
  // Requests the sender queues from one peer before it calls it a flood (optional on the
  // wire, "max_requests"; absent: limits::kLegacyMaxQueuedRequests). 0 = not said.
  std::uint32_t max_requests = 0;
  // The sender reads `haves` frames (optional on the wire, "haves": true; absent: false),
  // so `have`s to it may travel as one list per write instead of one frame per piece.
  bool haves = false;
  bool operator==(const Handshake&) const = default;
};
struct BitfieldMsg {   // payload: the bitfield bytes
  bool operator==(const BitfieldMsg&) const = default;
};
struct Have {
  std::uint32_t piece = 0;
  bool operator==(const Have&) const = default;
};
// Several `have`s in one frame: 1..limits::kMaxHavesPerFrame piece indexes. Only to a
// peer whose handshake said `haves`.
struct Haves {
  std::vector<std::uint32_t> pieces;
  bool operator==(const Haves&) const = default;
};
struct Request {
  std::uint32_t piece = 0, begin = 0, length = 0;
  bool operator==(const Request&) const = default;
};
struct Cancel {
  std::uint32_t piece = 0, begin = 0, length = 0;
  bool operator==(const Cancel&) const = default;
};
struct Piece {         // payload: the block's bytes (length = payload length)
  std::uint32_t piece = 0, begin = 0;
  bool operator==(const Piece&) const = default;
};
struct Choke { bool operator==(const Choke&) const = default; };
struct Unchoke { bool operator==(const Unchoke&) const = default; };
struct Interested { bool operator==(const Interested&) const = default; };
struct NotInterested { bool operator==(const NotInterested&) const = default; };
struct KeepAlive { bool operator==(const KeepAlive&) const = default; };
// The machine-readable codes an error frame carries (docs/PROTOCOL.md). Behaviour
// depends on these, never on the human message beside them.
enum class ErrorCode {
  version_mismatch,    // handshake: we speak another protocol version
  unknown_info_hash,   // handshake: this peer serves no file with that info hash
  info_hash_mismatch,  // handshake answer named another file than we asked for
  self_connection,     // handshake: that is ourselves
  banned,              // handshake: refused for earlier misbehaviour
  too_many_connections,// handshake: over a connection limit; try later
  protocol_error,      // anything malformed or out of bounds; the connection ends
  encryption_required, // handshake: a plaintext handshake for a private swarm (it talks TLS only)
  seeding_too,         // handshake: both sides seed (handshake "seed"): nothing to exchange
  unknown,             // a code this version does not know (newer peer)
};
std::string_view error_code_name(ErrorCode code);
ErrorCode parse_error_code(std::string_view name);

struct ErrorMsg {
  std::string code;     // machine-readable: error_code_name() of an ErrorCode
  std::string message;  // one line for humans
  bool operator==(const ErrorMsg&) const = default;
};
struct Pex {
  std::vector<PeerAddress> added, dropped;
  bool operator==(const Pex&) const = default;
};

using Message = std::variant<Handshake, BitfieldMsg, Have, Haves, Request, Cancel, Piece, Choke, Unchoke,
                             Interested, NotInterested, KeepAlive, ErrorMsg, Pex>;

std::string_view type_name(const Message& m);

// A decoded header: the message and how many payload bytes follow it.
struct Header {
  Message message;
  std::uint32_t payload_len = 0;
};

// Encodes prefix + JSON header; the caller sends payload_len raw bytes after it.
std::string encode(const Message& message, std::uint32_t payload_len = 0);

// Reads the 4-byte prefix; throws ProtocolError if 0 or above kMaxHeaderBytes.
std::uint32_t decode_header_length(std::span<const std::uint8_t, kPrefixBytes> prefix);
// Parses and validates one JSON header; throws ProtocolError on anything malformed.
Header decode_header(std::string_view json_text);

// Incremental decoder over a byte stream, for tests, fuzzing and simple peers.
// Never buffers more than one frame (prefix + header + payload, all bounded).
class FrameDecoder {
 public:
  struct Frame {
    Message message;
    std::vector<std::uint8_t> payload;
  };
  void feed(std::span<const std::uint8_t> bytes);
  // Next complete frame, or nullopt if more bytes are needed. Throws ProtocolError.
  std::optional<Frame> next();
  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::vector<std::uint8_t> buf_;
  std::size_t pos_ = 0;
  std::optional<Header> pending_;  // header decoded, payload still arriving
};

}  // namespace p2p::wire
