// close_reason_name: the words shown to users for each reason.
#include "swarm/close_reason.hpp"

namespace p2p {

std::string_view close_reason_name(CloseReason reason) {
  switch (reason) {
    case CloseReason::shutting_down: return "shutting down";
    case CloseReason::peer_closed: return "connection closed by peer";
    case CloseReason::send_failed: return "send failed";
    case CloseReason::protocol_violation: return "protocol violation";
    case CloseReason::refused: return "refused";
    case CloseReason::peer_refused: return "refused by peer";
    case CloseReason::handshake_timeout: return "handshake timed out";
    case CloseReason::tls_refused: return "refused (private swarm)";
    case CloseReason::stalled: return "stalled";
    case CloseReason::unresponsive: return "unresponsive";
    case CloseReason::idle: return "idle for too long";
    case CloseReason::displaced: return "displaced by a newcomer (out of connection slots)";
    case CloseReason::banned: return "banned";
    case CloseReason::source_lost: return "source lost";
    case CloseReason::both_complete: return "both complete";
    case CloseReason::crossed_dial: return "crossed dial (kept the peer's connection to us)";
    case CloseReason::internal_error: return "internal error";
  }
  return "closed";
}

}  // namespace p2p
