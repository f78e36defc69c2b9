// The three frames of the tracker's relay (docs/PROTOCOL.md "Relay"): the hello a
// member sends, and the relay's answer (ready, or an error frame). Here, in the
// format layer, so the relay (tracker/) and its clients (swarm/, app/) share one
// codec. No I/O: the caller reads the 4-byte prefix and the header itself.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace p2p::relay {

// The hello is small: a 64-hex ticket and a role. 1 KiB leaves room for new
// fields while a peer cannot make the relay buffer more than that before it
// has shown a ticket.
inline constexpr std::uint32_t kMaxHelloHeaderBytes = 1024;
// The relay's answers are smaller still; a client reading one refuses more.
inline constexpr std::uint32_t kMaxAnswerHeaderBytes = 1024;
inline constexpr std::size_t kPrefixBytes = 4;    // u32 big-endian header length, as every frame
inline constexpr std::size_t kTicketHexDigits = 64;  // 256 random bits
inline constexpr std::string_view kRefusedCode = "relay_refused";

// Which end of the relayed connection a member is: the dialler is the side that
// would have dialled the other directly (it speaks first once ready), the
// acceptor the side that would have accepted.
enum class Role { dialler, acceptor };
std::string_view role_name(Role role);

struct Hello {
  std::string ticket;  // 64 lowercase hex digits, as the tracker issued it
  Role role = Role::dialler;
};

// The length in a frame prefix; nullopt when it is 0 or above `max` (nothing
// should be allocated for it then).
std::optional<std::uint32_t> decode_length(std::span<const std::uint8_t, kPrefixBytes> prefix, std::uint32_t max);

// Prefix + JSON header, ready to write.
std::string encode_hello(const Hello& hello);
std::string encode_ready();
std::string encode_refusal(std::string_view why);  // {"type":"error","code":"relay_refused","message":why}

// Parses a hello header (the JSON after the prefix). On failure returns nullopt
// and sets `problem` to one line saying what was wrong.
std::optional<Hello> decode_hello(std::string_view json_text, std::string& problem);

// The relay's answer as a client reads it: ready, or refused with the relay's reason.
struct Answer {
  bool ready = false;
  std::string refusal;  // the error frame's message when !ready
};
// nullopt (and `problem`) when the header is neither a relay_ready nor an error frame.
std::optional<Answer> decode_answer(std::string_view json_text, std::string& problem);

}  // namespace p2p::relay
