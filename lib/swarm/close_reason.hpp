// Why a peer connection ended, and why a handshake was refused: enums, so that
// scoring and dialling decisions never depend on the wording of a message.
#pragma once
#include <string_view>

namespace p2p {

enum class CloseReason {
  shutting_down,       // our process or the torrent is stopping
  peer_closed,         // they hung up
  send_failed,         // a write to the socket failed
  protocol_violation,  // they broke the wire format or its limits (scored)
  refused,             // we refused their handshake
  peer_refused,        // they sent an error frame (refused us, or reported a violation of ours)
  handshake_timeout,
  tls_refused,         // private swarm: the TLS set-up failed (wrong or no key, plaintext where TLS is required) (scored)
  stalled,             // requests outstanding, no data for kRequestTimeout (scored)
  unresponsive,        // interested for kIdleTimeout without getting a block (scored)
  idle,                // nothing received for kIdleTimeout
  displaced,           // at the connection cap, a newcomer took its place (it moved no payload longest)
  banned,              // we banned them
  source_lost,         // the file we serve from can no longer be read
  both_complete,       // we seed and so does the peer: nothing to exchange
  crossed_dial,        // we and the peer dialled each other at once: our dial gives way to theirs
  internal_error,
};

// Short lower-case words for messages and JSON ("stalled", "protocol violation").
std::string_view close_reason_name(CloseReason reason);

}  // namespace p2p
